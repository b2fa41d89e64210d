"""Encryption-key rotation for webhook signing secrets (the webhook part of `entrasync rotate-key`)."""

from __future__ import annotations

import logging

from entra.cipher import TokenCipher
from entra.errors import CipherError
from models import Webhook
from services.webhooks.dispatcher import bound_to

log = logging.getLogger("entrasync.webhooks")

_PAGE = 500


async def rotate_secret_encryption(cipher: TokenCipher) -> int:
    """Re-encrypt every signing secret made under an older key with the primary key; returns how
    many were rewritten. Safe while serving: a row is rewritten only if it still holds the value
    that was read (a concurrent rotateWebhookSecret already wrote under the primary key).

    A system task across every account, never reachable from the API.
    """
    rotated = 0
    after = 0
    while True:
        rows = (
            await Webhook.filter(id__gt=after)
            .order_by("id")
            .limit(_PAGE)
            .values_list("id", "signing_secret")
        )
        for hook_id, value in rows:
            owner = bound_to(int(hook_id))
            try:
                if not cipher.needs_rotation(str(value)):
                    continue
                new = cipher.rotate(str(value), bound_to=owner)
            except CipherError as exc:
                # Left as it is: its deliveries fail with "rotate it" until an admin does.
                log.warning("%s cannot be re-encrypted: %s", owner, exc.message)
                continue
            rotated += await Webhook.filter(id=hook_id, signing_secret=value).update(
                signing_secret=new
            )
        if len(rows) < _PAGE:
            break
        after = int(rows[-1][0])
    if rotated:
        log.info("re-encrypted %d webhook secret(s) under key %s", rotated, cipher.primary_kid)
    return rotated
