"""AES-256-GCM encryption of token caches at rest, bound to their owner row, with key rotation."""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Mapping

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from entra.errors import CipherError

_VERSION = "v1"
_NONCE_BYTES = 12  # 96-bit nonce, the size GCM is designed for
_KEY_BYTES = 32  # AES-256
_TAG_BYTES = 16
_KID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
# Random 96-bit nonces are safe up to ~2**32 encryptions per key (NIST SP 800-38D 8.3); a token
# cache is re-encrypted only when msal rotates a refresh token, so a key never gets near that.


def _b64decode(text: str) -> bytes:
    """Decode standard or URL-safe base64, with or without padding."""
    text = text.strip().replace("-", "+").replace("_", "/")
    text += "=" * (-len(text) % 4)
    return base64.b64decode(text, validate=True)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def generate_key() -> str:
    """Return a new random 256-bit key, URL-safe base64, for `TokenCipher.from_setting`."""
    return _b64url(os.urandom(_KEY_BYTES))


class TokenCipher:
    """Encrypts with the primary key, decrypts with any key still in the keyring.

    Ciphertexts look like `v1.<kid>.<b64url(nonce | ciphertext | tag)>`. The associated data
    binds each ciphertext to `bound_to` (e.g. `tenant_connection:42`), so a value copied to
    another row does not decrypt. To rotate: put a new key first in the setting, keep the old
    ones after it, re-encrypt rows with `rotate()`, then drop the old keys.
    """

    def __init__(self, keys: Mapping[str, bytes], primary: str) -> None:
        """Raise ValueError on a malformed key id, a key that isn't 32 bytes, or a missing primary."""
        if primary not in keys:
            raise ValueError("the primary key id is not in the keyring")
        aeads: dict[str, AESGCM] = {}
        for kid, key in keys.items():
            if not _KID.match(kid):
                raise ValueError(f"key id {kid!r} must match [A-Za-z0-9_-]{{1,32}}")
            if len(key) != _KEY_BYTES:
                raise ValueError(f"key {kid!r} must be {_KEY_BYTES} bytes (AES-256)")
            aeads[kid] = AESGCM(key)
        self._aeads = aeads
        self._primary = primary

    @classmethod
    def from_setting(cls, setting: str) -> TokenCipher:
        """Parse `"k2:<base64 key>,k1:<base64 key>"`; the first key is the primary.

        Raises ValueError on a malformed setting (the message never includes key material).
        """
        keys: dict[str, bytes] = {}
        primary: str | None = None
        for part in setting.split(","):
            part = part.strip()
            if not part:
                continue
            kid, sep, encoded = part.partition(":")
            kid = kid.strip()
            if not sep:
                raise ValueError("each key must be written as <kid>:<base64 key>")
            if kid in keys:
                raise ValueError(f"key id {kid!r} appears twice")
            try:
                keys[kid] = _b64decode(encoded)
            except (binascii.Error, ValueError):
                raise ValueError(f"key {kid!r} is not valid base64") from None
            primary = primary or kid
        if primary is None:
            raise ValueError("no keys in the cipher setting")
        return cls(keys, primary)

    @property
    def primary_kid(self) -> str:
        return self._primary

    def __repr__(self) -> str:
        return f"TokenCipher(kids={sorted(self._aeads)!r}, primary={self._primary!r})"

    @staticmethod
    def _aad(kid: str, bound_to: str) -> bytes:
        return f"entrasync-token-cipher/{_VERSION}\x00{kid}\x00{bound_to}".encode()

    def encrypt(self, plaintext: bytes, *, bound_to: str) -> str:
        """Encrypt under the primary key, bound to `bound_to`."""
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._aeads[self._primary].encrypt(
            nonce, plaintext, self._aad(self._primary, bound_to)
        )
        return f"{_VERSION}.{self._primary}.{_b64url(nonce + sealed)}"

    def key_id(self, token: str) -> str:
        """Return the key id a ciphertext was made with; raises CipherError if malformed."""
        return self._parse(token)[0]

    def needs_rotation(self, token: str) -> bool:
        """True when the ciphertext is not under the primary key; raises CipherError if malformed."""
        return self.key_id(token) != self._primary

    def _parse(self, token: str) -> tuple[str, bytes]:
        version, _, rest = token.partition(".")
        kid, _, body = rest.partition(".")
        if version != _VERSION or not _KID.match(kid) or not body:
            raise CipherError("not a token-cipher value (bad format or version)")
        try:
            raw = _b64decode(body)
        except (binascii.Error, ValueError):
            raise CipherError("not a token-cipher value (bad encoding)") from None
        if len(raw) < _NONCE_BYTES + _TAG_BYTES:
            raise CipherError("not a token-cipher value (too short)")
        return kid, raw

    def decrypt(self, token: str, *, bound_to: str) -> bytes:
        """Decrypt a value made by `encrypt` with the same `bound_to`.

        Raises CipherError if it is malformed, was made with a key no longer in the keyring,
        was tampered with, or belongs to another owner.
        """
        kid, raw = self._parse(token)
        aead = self._aeads.get(kid)
        if aead is None:
            raise CipherError(f"key {kid!r} is not in the keyring")
        try:
            return aead.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], self._aad(kid, bound_to))
        except InvalidTag:
            raise CipherError("decryption failed: tampered, or bound to another owner") from None

    def rotate(self, token: str, *, bound_to: str) -> str:
        """Re-encrypt under the primary key; a value already under it is returned unchanged.

        Raises CipherError like `decrypt`.
        """
        if self.key_id(token) == self._primary:
            self.decrypt(token, bound_to=bound_to)  # still verify it
            return token
        return self.encrypt(self.decrypt(token, bound_to=bound_to), bound_to=bound_to)
