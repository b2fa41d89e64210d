"""RS256 signing of id_tokens with one process-wide key, published at the discovery `jwks_uri`."""

from __future__ import annotations

import functools
import json
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from simulator.wire import b64url

KEY_ID = "simulator-key-1"


@functools.cache
def _key() -> rsa.RSAPrivateKey:
    # One key per process: generating it costs ~50 ms, too much for every test's simulator.
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def sign_jwt(claims: dict[str, Any]) -> str:
    """A compact RS256 JWT; msal only decodes id_tokens, but a product may verify them."""
    header = {"typ": "JWT", "alg": "RS256", "kid": KEY_ID}
    signing_input = (
        b64url(json.dumps(header, separators=(",", ":")).encode())
        + "."
        + b64url(json.dumps(claims, separators=(",", ":"), ensure_ascii=False).encode())
    )
    signature = _key().sign(signing_input.encode("ascii"), padding.PKCS1v15(), hashes.SHA256())
    return signing_input + "." + b64url(signature)


def jwks() -> dict[str, Any]:
    numbers = _key().public_key().public_numbers()

    def encode(value: int) -> str:
        return b64url(value.to_bytes((value.bit_length() + 7) // 8, "big"))

    return {
        "keys": [
            {
                "kty": "RSA",
                "use": "sig",
                "kid": KEY_ID,
                "alg": "RS256",
                "n": encode(numbers.n),
                "e": encode(numbers.e),
            }
        ]
    }
