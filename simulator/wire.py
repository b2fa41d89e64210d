"""Small wire-format helpers shared by the login and Graph sides: ids, tokens, dates, JSON."""

from __future__ import annotations

import base64
import binascii
import json
import random
import secrets
import time
import uuid
from datetime import UTC, datetime
from typing import Any

_V4_CLEAR = ~((0xF000 << 64) | (0xC000 << 48))
_V4_SET = (0x4000 << 64) | (0x8000 << 48)


def new_guid(rng: random.Random | None = None) -> str:
    """A random v4 GUID; from `rng` when given so generated tenants are reproducible."""
    if rng is None:
        return str(uuid.uuid4())
    # By hand rather than uuid.UUID(int=..., version=4): a third of 100k-user generation time.
    h = f"{(rng.getrandbits(128) & _V4_CLEAR) | _V4_SET:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def url_token(nbytes: int = 32) -> str:
    # URL-safe on purpose: a `+` in a token would become a space in parse_qs (reference section 8).
    return secrets.token_urlsafe(nbytes)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_json(obj: Any) -> str:
    return b64url(json.dumps(obj, separators=(",", ":")).encode())


def unb64url_json(text: str) -> Any:
    """Decode b64url(JSON); raises ValueError on anything malformed."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        return json.loads(raw)
    except (binascii.Error, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError("malformed token") from exc


def dumps(obj: Any) -> bytes:
    """Compact UTF-8 JSON as Graph sends it (non-ASCII characters are not escaped)."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()


def graph_date(now: float | None = None) -> str:
    """`innerError.date` format: 2025-02-13T10:17:06."""
    return datetime.fromtimestamp(time.time() if now is None else now, UTC).strftime(
        "%Y-%m-%dT%H:%M:%S"
    )


def entra_timestamp(now: float | None = None) -> str:
    """Entra error `timestamp` format: 2025-02-13 10:17:06Z."""
    return datetime.fromtimestamp(time.time() if now is None else now, UTC).strftime(
        "%Y-%m-%d %H:%M:%SZ"
    )


def iso_utc(epoch: float) -> str:
    """DateTimeOffset as Graph writes it: 2014-01-01T00:00:00Z."""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
