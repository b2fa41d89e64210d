"""Webhook signatures: HMAC-SHA256 of "<timestamp>.<body>" with the webhook's secret."""

from __future__ import annotations

import hashlib
import hmac
import secrets

SECRET_PREFIX = "whsec_"
SIGNATURE_SCHEME = "sha256="


def new_secret() -> str:
    """A fresh signing secret: 256 random bits, URL-safe, with a recognisable prefix."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The X-Entrasync-Signature value for one attempt."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return SIGNATURE_SCHEME + digest.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    """What a receiver does (README): recompute and compare in constant time."""
    try:
        ts = int(timestamp)
    except ValueError:
        return False
    return hmac.compare_digest(sign(secret, ts, body), signature)
