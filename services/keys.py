"""Encryption-key rotation (C3): re-encrypt every stored token cache and sign-in flow under the
primary key, so that the keys after it in ENTRASYNC_ENCRYPTION_KEY can then be dropped.

The procedure: put the new key first in the setting and keep the old ones after it (every value
still decrypts), restart, run `entrasync rotate-key`, then drop the old keys. It is safe while the
API serves: a row is rewritten only if it still holds the value that was read, and a value that a
concurrent sign-in or token refresh rewrote is already under the primary key.
"""

from __future__ import annotations

import logging

from entra.cipher import TokenCipher
from entra.errors import CipherError
from models import SignInRequest, TenantConnection
from services.webhooks.encryption import rotate_secret_encryption

log = logging.getLogger("entrasync.keys")

_PAGE = 500


def _connection_binding(connection_id: int) -> str:
    # The owners services/connections.py binds these ciphertexts to.
    return f"tenant_connection:{connection_id}"


def _sign_in_binding(request_id: int) -> str:
    return f"sign_in_request:{request_id}"


def _rotated(cipher: TokenCipher, value: str, bound_to: str) -> str | None:
    """The value under the primary key, or None when it already is or cannot be read."""
    try:
        if not cipher.needs_rotation(value):
            return None
        return cipher.rotate(value, bound_to=bound_to)
    except CipherError as exc:
        # Left as it is: using the connection will say it needs a new sign-in (C6).
        log.warning("%s cannot be re-encrypted: %s", bound_to, exc.message)
        return None


async def rotate_token_encryption(cipher: TokenCipher) -> int:
    """Re-encrypt each TenantConnection.token_cache, SignInRequest.flow and webhook secret made
    under an older key; returns how many values were rewritten (0 when everything is under the primary key).

    A system task across every account (the CLI's `rotate-key`), never reachable from the API.
    """
    rotated = 0
    after = 0
    while True:
        rows = (
            await TenantConnection.filter(id__gt=after, token_cache__not_isnull=True)
            .order_by("id")
            .limit(_PAGE)
            .values_list("id", "token_cache")
        )
        for conn_id, token in rows:
            new = _rotated(cipher, str(token), _connection_binding(int(conn_id)))
            if new is not None:
                rotated += await TenantConnection.filter(id=conn_id, token_cache=token).update(
                    token_cache=new
                )
        if len(rows) < _PAGE:
            break
        after = int(rows[-1][0])
    after = 0
    while True:
        flows = (
            await SignInRequest.filter(id__gt=after)
            .exclude(flow="")
            .order_by("id")
            .limit(_PAGE)
            .values_list("id", "flow")
        )
        for request_id, flow in flows:
            new = _rotated(cipher, str(flow), _sign_in_binding(int(request_id)))
            if new is not None:
                rotated += await SignInRequest.filter(id=request_id, flow=flow).update(flow=new)
        if len(flows) < _PAGE:
            break
        after = int(flows[-1][0])
    # Webhook signing secrets are encrypted with the same keys.
    rotated += await rotate_secret_encryption(cipher)
    log.info("re-encrypted %d value(s) under key %s", rotated, cipher.primary_kid)
    return rotated
