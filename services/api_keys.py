"""Accounts and API keys: creation (shown once), hashing at rest, constant-time verification (A5)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from models import Account, AccountMode, ApiKey, Role
from services.caller import Caller
from services.errors import InvalidInput, NotFound

KEY_PREFIX = "es_"


@dataclass(frozen=True, slots=True)
class IssuedKey:
    id: int
    account_id: int
    role: Role
    secret: str  # the only moment the clear key exists; never stored, never logged


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


async def create_account(name: str, mode: AccountMode) -> Account:
    """Raises InvalidInput for a blank name."""
    name = name.strip()
    if not name or len(name) > 200:
        raise InvalidInput("name", "an account name needs 1 to 200 characters")
    return await Account.create(name=name, mode=mode)


async def create_api_key(account_id: int, role: Role, name: str = "") -> IssuedKey:
    """Issues a key for the account; raises NotFound if the account does not exist."""
    if not await Account.exists(id=account_id):
        raise NotFound("account")
    # The prefix is a public lookup handle; the secret part carries 256 bits of entropy.
    prefix = secrets.token_hex(6)
    secret = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    row = await ApiKey.create(
        account_id=account_id, role=role, name=name, prefix=prefix, key_hash=_hash(secret)
    )
    return IssuedKey(id=row.id, account_id=account_id, role=role, secret=secret)


# Compared against when the prefix is unknown, so a miss costs the same as a wrong secret.
_DUMMY_HASH = _hash("es_000000000000_dummy")


async def authenticate(presented: str) -> Caller | None:
    """The caller for a presented bearer key, or None when it is unknown, malformed or revoked."""
    if not presented.startswith(KEY_PREFIX) or len(presented) > 200:
        hmac.compare_digest(_DUMMY_HASH, _hash(presented[:200]))
        return None
    prefix = presented[len(KEY_PREFIX) :].split("_", 1)[0]
    row = await ApiKey.get_or_none(prefix=prefix, revoked_at=None)
    expected = row.key_hash if row is not None else _DUMMY_HASH
    if not hmac.compare_digest(expected, _hash(presented)) or row is None:
        return None
    return Caller(account_id=row.account_id, role=row.role, api_key_id=row.id)
