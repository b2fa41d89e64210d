"""The delivery queue: `notify` persists deliveries, dispatchers claim and send the due ones.

Deliveries are rows, so they survive a restart. Several dispatchers (one per process) may run
at once: a pass claims due rows with one conditional UPDATE that moves their `next_attempt_at`
ahead by the claim's lifetime and stamps a claim token; only the holder of the token records
the outcome. A dispatcher that dies mid-attempt leaves its rows due again once the claim lapses,
so a delivery is sent at least once and never by two dispatchers at the same time; receivers
dedupe on X-Entrasync-Delivery.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import Enum
from typing import Any

from tortoise.transactions import in_transaction

from entra.errors import CipherError
from models import DeliveryStatus, Webhook, WebhookDelivery, WebhookEvent
from services.runtime import Runtime
from services.webhooks.policy import WebhookPolicy
from services.webhooks.sender import Outcome, send

log = logging.getLogger("entrasync.webhooks")

_EXTRAS_KEY = "webhooks"
_PRUNE_EVERY = 3600.0  # seconds between two prunes of the delivery log by one dispatcher


@dataclass
class _State:
    policy: WebhookPolicy
    wake: asyncio.Event = field(default_factory=asyncio.Event)


def configure(rt: Runtime, policy: WebhookPolicy) -> None:
    """Set this process's delivery policy (api/ at startup; tests with short delays)."""
    rt.extras[_EXTRAS_KEY] = _State(policy)


def _state(rt: Runtime) -> _State:
    state = rt.extras.get(_EXTRAS_KEY)
    if not isinstance(state, _State):
        state = _State(WebhookPolicy())
        rt.extras[_EXTRAS_KEY] = state
    return state


def policy_of(rt: Runtime) -> WebhookPolicy:
    return _state(rt).policy


def bound_to(webhook_id: int) -> str:
    """What the encrypted signing secret is bound to (a copy in another row does not decrypt)."""
    return f"webhook:{webhook_id}"


def _json_default(value: object) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def build_body(
    delivery_id: uuid.UUID,
    event: WebhookEvent,
    occurred_at: datetime,
    account_id: int,
    data: Mapping[str, Any],
) -> str:
    """The JSON every attempt of one delivery sends, byte for byte (raises TypeError on bad data)."""
    document = {
        "id": str(delivery_id),
        "event": event.value,
        "occurredAt": occurred_at.isoformat(),
        "accountId": str(account_id),
        "data": dict(data),
    }
    return json.dumps(document, separators=(",", ":"), default=_json_default)


async def notify(rt: Runtime, account_id: int, event: str, payload: Mapping[str, Any]) -> None:
    """Queue `event` for every enabled webhook of the account that wants it, and return.

    Never raises (a failure is logged and the event is dropped) and never waits for a receiver:
    it writes one delivery row per webhook and wakes this process's dispatcher. Call it after
    the change it reports is committed; inside a transaction its rows commit (or roll back)
    with the caller's, in a savepoint that cannot break the caller's transaction.
    """
    try:
        kind = WebhookEvent(event)
        if kind is WebhookEvent.PING:
            raise ValueError("PING is sent by testWebhook only")
        occurred_at = datetime.now(UTC)
        async with in_transaction():
            hooks = await Webhook.filter(account_id=account_id, enabled=True).values_list(
                "id", "events"
            )
            rows = []
            for hook_id, events in hooks:
                if kind.value not in (events or []):
                    continue
                delivery_id = uuid.uuid4()
                rows.append(
                    WebhookDelivery(
                        webhook_id=hook_id,
                        account_id=account_id,
                        event=kind,
                        delivery_id=delivery_id,
                        body=build_body(delivery_id, kind, occurred_at, account_id, payload),
                        status=DeliveryStatus.PENDING,
                        next_attempt_at=occurred_at,
                    )
                )
            if rows:
                await WebhookDelivery.bulk_create(rows)
        if rows:
            _state(rt).wake.set()
    except Exception:
        log.exception("webhook event %s of account %s was not queued", event, account_id)


def claim_expiry(policy: WebhookPolicy, now: datetime) -> datetime:
    return now + timedelta(seconds=policy.claim_seconds)


async def due_ids(policy: WebhookPolicy, now: datetime) -> list[int]:
    """Ids of up to `policy.batch` deliveries due at `now`, the most overdue first."""
    due: list[Any] = await (
        WebhookDelivery.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "id")
        .limit(policy.batch)
        .values_list("id", flat=True)
    )
    return [int(i) for i in due]


async def take(
    policy: WebhookPolicy, ids: list[int], now: datetime
) -> tuple[str, list[WebhookDelivery]]:
    """Claim those of `ids` that are still due: the UPDATE re-checks the condition, so a row
    that another dispatcher claimed since `due_ids` (its next_attempt_at moved ahead) is left
    alone. Returns the claim token and the rows this call won."""
    token = uuid.uuid4().hex
    if not ids:
        return token, []
    await WebhookDelivery.filter(
        id__in=ids, status=DeliveryStatus.PENDING, next_attempt_at__lte=now
    ).update(next_attempt_at=claim_expiry(policy, now), claim_token=token)
    claimed = await WebhookDelivery.filter(id__in=ids, claim_token=token).order_by("id")
    return token, claimed


async def _claim(policy: WebhookPolicy, now: datetime) -> tuple[str, list[WebhookDelivery]]:
    return await take(policy, await due_ids(policy, now), now)


async def _record(
    policy: WebhookPolicy, delivery: WebhookDelivery, token: str, outcome: Outcome
) -> None:
    now = datetime.now(UTC)
    attempts = delivery.attempts + 1
    retries = delivery.event is not WebhookEvent.PING and attempts < policy.max_attempts
    if outcome.delivered:
        status, next_at, delivered_at = DeliveryStatus.DELIVERED, None, now
    elif outcome.retry and retries:
        delay = policy.backoff(attempts, outcome.retry_after)
        status, next_at, delivered_at = (
            DeliveryStatus.PENDING,
            now + timedelta(seconds=delay),
            None,
        )
    else:
        status, next_at, delivered_at = DeliveryStatus.FAILED, None, None
    error = outcome.error[:500]
    won = await WebhookDelivery.filter(
        id=delivery.id, account_id=delivery.account_id, claim_token=token
    ).update(
        status=status,
        attempts=attempts,
        last_status_code=outcome.status_code,
        last_error=error,
        next_attempt_at=next_at,
        delivered_at=delivered_at,
        claim_token=None,
    )
    if won != 1:
        # The claim lapsed and another dispatcher took the delivery over; its record stands.
        log.warning("webhook delivery %s: claim lost before its outcome was recorded", delivery.id)
        return
    delivery.status, delivery.attempts, delivery.next_attempt_at = status, attempts, next_at
    delivery.last_status_code, delivery.last_error = outcome.status_code, error
    delivery.delivered_at, delivery.claim_token = delivered_at, None
    if status is DeliveryStatus.FAILED:
        log.warning(
            "webhook delivery %s (webhook %s, %s) failed after %d attempt(s): %s",
            delivery.delivery_id,
            delivery.webhook_id,
            delivery.event.value,
            attempts,
            error,
        )
    elif status is DeliveryStatus.PENDING:
        log.info(
            "webhook delivery %s (webhook %s) attempt %d: %s; next at %s",
            delivery.delivery_id,
            delivery.webhook_id,
            attempts,
            error,
            next_at.isoformat() if next_at else "-",
        )


def _final(error: str) -> Outcome:
    return Outcome(delivered=False, retry=False, status_code=None, error=error)


async def attempt(
    rt: Runtime, delivery: WebhookDelivery, token: str, *, hook: Webhook | None = None
) -> None:
    """Send one claimed delivery once and record what happened (never raises for the receiver)."""
    policy = policy_of(rt)
    if hook is None:
        hook = await Webhook.get_or_none(id=delivery.webhook_id, account_id=delivery.account_id)
    if hook is None:
        return  # deleted since: its deliveries are deleted with it
    if not hook.enabled and delivery.event is not WebhookEvent.PING:
        await _record(policy, delivery, token, _final("the webhook was disabled before delivery"))
        return
    try:
        secret = rt.cipher.decrypt(hook.signing_secret, bound_to=bound_to(hook.id)).decode()
    except CipherError:
        log.error("webhook %s: its signing secret cannot be decrypted; rotate it", hook.id)
        outcome = _final(
            "the signing secret cannot be decrypted (encryption key changed?); rotate it"
        )
    else:
        outcome = await send(
            rt.http,
            hook.url,
            secret=secret,
            event=delivery.event.value,
            delivery_id=str(delivery.delivery_id),
            body=delivery.body.encode(),
            policy=policy,
        )
    await _record(policy, delivery, token, outcome)


async def dispatch_due(rt: Runtime) -> int:
    """One pass: claim up to `policy.batch` due deliveries and attempt each once; returns how many."""
    policy = policy_of(rt)
    token, claimed = await _claim(policy, datetime.now(UTC))
    if not claimed:
        return 0
    limit = asyncio.Semaphore(policy.concurrency)

    async def one(delivery: WebhookDelivery) -> None:
        async with limit:
            try:
                await attempt(rt, delivery, token)
            except Exception:
                # Left claimed: due again when the claim lapses.
                log.exception("webhook delivery %s: unexpected error", delivery.delivery_id)

    await asyncio.gather(*(one(d) for d in claimed))
    return len(claimed)


async def prune_deliveries(older_than: timedelta) -> int:
    """Delete finished deliveries created more than `older_than` ago; returns how many."""
    cutoff = datetime.now(UTC) - older_than
    deleted: int = await WebhookDelivery.filter(
        status__in=[DeliveryStatus.DELIVERED, DeliveryStatus.FAILED], created_at__lt=cutoff
    ).delete()
    return deleted


async def _wait(stop: asyncio.Event, wake: asyncio.Event, seconds: float) -> None:
    waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(wake.wait())]
    try:
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
        await asyncio.gather(*waiters, return_exceptions=True)


async def run_dispatcher(rt: Runtime, *, stop: asyncio.Event, poll: float = 1.0) -> None:
    """Send due deliveries until `stop` is set: every `poll` seconds, or at once when `notify`
    wakes it; a full batch is followed by another pass. A failing pass is logged, never fatal."""
    state = _state(rt)
    last_prune = float("-inf")
    while not stop.is_set():
        state.wake.clear()
        sent = 0
        try:
            sent = await dispatch_due(rt)
            if time.monotonic() - last_prune >= _PRUNE_EVERY:
                last_prune = time.monotonic()
                pruned = await prune_deliveries(state.policy.retention)
                if pruned:
                    log.info("pruned %d finished webhook deliveries", pruned)
        except Exception:
            log.exception("webhook dispatch pass failed")
        if sent >= state.policy.batch:
            continue
        await _wait(stop, state.wake, poll)
