"""An account's webhooks: register, change, delete, rotate the secret, test, read the log.

Everything is scoped to the caller's account (another account's webhook is NotFound, A4);
changes need ADMIN (C1). A signing secret is returned only by create and rotate.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from tortoise.transactions import in_transaction

from models import DeliveryStatus, Webhook, WebhookDelivery, WebhookEvent
from services.caller import Caller
from services.errors import InvalidInput, NotFound, refuse_nul
from services.pagination import Page, page_by_id
from services.runtime import Runtime
from services.webhooks.dispatcher import attempt, bound_to, build_body, claim_expiry, policy_of
from services.webhooks.events import global_id
from services.webhooks.signing import new_secret
from services.webhooks.urls import clean_url

MAX_WEBHOOKS_PER_ACCOUNT = 20
MAX_DESCRIPTION = 500
SUBSCRIBABLE = tuple(e for e in WebhookEvent if e is not WebhookEvent.PING)


def clean_events(events: Iterable[str]) -> list[str]:
    """Known, subscribable events in canonical order; raises InvalidInput("events")."""
    chosen: set[WebhookEvent] = set()
    for name in events:
        try:
            kind = WebhookEvent(name)
        except ValueError:
            raise InvalidInput("events", f"unknown event {name[:40]!r}") from None
        if kind is WebhookEvent.PING:
            raise InvalidInput("events", "PING is sent by testWebhook only; it cannot be chosen")
        chosen.add(kind)
    if not chosen:
        raise InvalidInput("events", "choose at least one event")
    return [e.value for e in SUBSCRIBABLE if e in chosen]


def clean_description(text: str) -> str:
    text = " ".join(refuse_nul("description", text).split())
    if len(text) > MAX_DESCRIPTION:
        raise InvalidInput("description", f"at most {MAX_DESCRIPTION} characters")
    return text


@dataclass(frozen=True, slots=True)
class WebhookPatch:
    """The fields to change; None leaves one as it is."""

    url: str | None = None
    events: tuple[str, ...] | None = None
    description: str | None = None
    enabled: bool | None = None


async def list_webhooks(caller: Caller, *, first: int, after_id: int | None) -> Page[Webhook]:
    return await page_by_id(
        Webhook.filter(account_id=caller.account_id), first=first, after_id=after_id
    )


async def get_webhook(caller: Caller, webhook_id: int) -> Webhook:
    """Raises NotFound for a missing webhook or another account's (A4)."""
    hook = await Webhook.get_or_none(id=webhook_id, account_id=caller.account_id)
    if hook is None:
        raise NotFound("webhook")
    return hook


async def _store_secret(rt: Runtime, hook: Webhook) -> str:
    secret = new_secret()
    hook.signing_secret = rt.cipher.encrypt(secret.encode(), bound_to=bound_to(hook.id))
    await Webhook.filter(id=hook.id, account_id=hook.account_id).update(
        signing_secret=hook.signing_secret, updated_at=datetime.now(UTC)
    )
    return secret


async def create_webhook(
    rt: Runtime, caller: Caller, *, url: str, events: Iterable[str], description: str = ""
) -> tuple[Webhook, str]:
    """The new webhook (enabled) and its signing secret, which is never shown again.

    Raises PermissionDenied, InvalidInput (url, events, description, or too many webhooks).
    """
    caller.require_admin()
    clean = clean_url(url, policy_of(rt))
    chosen = clean_events(events)
    text = clean_description(description)
    if await Webhook.filter(account_id=caller.account_id).count() >= MAX_WEBHOOKS_PER_ACCOUNT:
        raise InvalidInput(
            "url", f"an account can have at most {MAX_WEBHOOKS_PER_ACCOUNT} webhooks"
        )
    async with in_transaction():
        # The secret is bound to the row's id, so the row comes first (inside the transaction,
        # nobody sees it without its secret).
        hook = await Webhook.create(
            account_id=caller.account_id,
            url=clean,
            events=chosen,
            description=text,
            enabled=True,
            signing_secret="",
        )
        secret = await _store_secret(rt, hook)
    return hook, secret


async def update_webhook(
    rt: Runtime, caller: Caller, webhook_id: int, patch: WebhookPatch
) -> Webhook:
    """Raises PermissionDenied, NotFound, InvalidInput."""
    caller.require_admin()
    hook = await get_webhook(caller, webhook_id)
    if patch.url is not None:
        hook.url = clean_url(patch.url, policy_of(rt))
    if patch.events is not None:
        hook.events = clean_events(patch.events)
    if patch.description is not None:
        hook.description = clean_description(patch.description)
    if patch.enabled is not None:
        hook.enabled = patch.enabled
    await hook.save(update_fields=["url", "events", "description", "enabled", "updated_at"])
    return hook


async def delete_webhook(caller: Caller, webhook_id: int) -> int:
    """Delete the webhook and its delivery log; pending deliveries are dropped.

    Raises PermissionDenied, NotFound.
    """
    caller.require_admin()
    hook = await get_webhook(caller, webhook_id)
    async with in_transaction():
        await WebhookDelivery.filter(webhook_id=hook.id, account_id=caller.account_id).delete()
        await Webhook.filter(id=hook.id, account_id=caller.account_id).delete()
    return hook.id


async def rotate_secret(rt: Runtime, caller: Caller, webhook_id: int) -> tuple[Webhook, str]:
    """A new signing secret, effective for every attempt from now on (also pending retries).

    Raises PermissionDenied, NotFound.
    """
    caller.require_admin()
    hook = await get_webhook(caller, webhook_id)
    secret = await _store_secret(rt, hook)
    return hook, secret


async def send_test(rt: Runtime, caller: Caller, webhook_id: int) -> WebhookDelivery:
    """Send a PING to the webhook now (even a disabled one), once, and return the logged result.

    Raises PermissionDenied, NotFound. The receiver's failure is a FAILED delivery, not an error.
    """
    caller.require_admin()
    hook = await get_webhook(caller, webhook_id)
    now = datetime.now(UTC)
    delivery_id = uuid.uuid4()
    token = uuid.uuid4().hex
    data = {
        "webhookId": global_id("Webhook", hook.id),
        "message": "a test delivery from entrasync",
    }
    # Created already claimed by this request, so no dispatcher sends it too.
    delivery = await WebhookDelivery.create(
        webhook_id=hook.id,
        account_id=caller.account_id,
        event=WebhookEvent.PING,
        delivery_id=delivery_id,
        body=build_body(delivery_id, WebhookEvent.PING, now, caller.account_id, data),
        status=DeliveryStatus.PENDING,
        next_attempt_at=claim_expiry(policy_of(rt), now),
        claim_token=token,
    )
    await attempt(rt, delivery, token, hook=hook)
    return delivery


async def list_deliveries(
    caller: Caller,
    webhook_id: int,
    *,
    first: int,
    after_id: int | None,
    status: DeliveryStatus | None = None,
) -> Page[WebhookDelivery]:
    """The webhook's delivery log, oldest first. Raises NotFound."""
    hook = await get_webhook(caller, webhook_id)
    qs = WebhookDelivery.filter(webhook_id=hook.id, account_id=caller.account_id)
    if status is not None:
        qs = qs.filter(status=status)
    return await page_by_id(qs, first=first, after_id=after_id)
