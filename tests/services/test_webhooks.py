"""Webhooks: signed deliveries to a real local receiver, retries with backoff, restarts, several
dispatchers, SSRF checks, and secrets that never leave their ciphertext."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import pathlib
import re
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from tortoise import connections
from tortoise.transactions import in_transaction

from api.runtime import open_runtime
from api.settings import Settings
from entra.cipher import TokenCipher, generate_key
from entra.errors import CipherError
from models import (
    ConnectionScope,
    ConnectionStatus,
    DeliveryStatus,
    RunStatus,
    Site,
    SyncRun,
    TenantConnection,
    Webhook,
    WebhookDelivery,
    WebhookEvent,
)
from schema.ids import encode_id
from services.errors import InvalidInput
from services.runtime import Runtime
from services.webhooks import (
    WebhookPolicy,
    configure,
    create_webhook,
    dispatch_due,
    notify,
    notify_connection_status,
    notify_run_finished,
    prune_deliveries,
    rotate_secret,
    rotate_secret_encryption,
    run_dispatcher,
    verify,
)
from services.webhooks.dispatcher import _claim, due_ids, take
from services.webhooks.sender import parse_retry_after
from services.webhooks.urls import AddressRefused, address_refusal, clean_url, pin
from tests.factories import Tenant, admin_caller, make_account
from tests.webhook_receiver import Answer, Receiver, serve_receiver

FAST = WebhookPolicy(
    max_attempts=4,
    base_delay=0.05,
    max_delay=1.0,
    jitter=0.0,
    retry_after_cap=2.0,
    timeout=1.0,
    claim_seconds=5.0,
)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with serve_receiver() as r:
        yield r


@pytest.fixture
async def rt(settings: Settings) -> AsyncIterator[Runtime]:
    async with open_runtime(settings) as runtime:
        configure(runtime, FAST)
        yield runtime


async def _hook(
    rt: Runtime, tenant: Tenant, url: str, events: tuple[str, ...] = ("RUN_FAILED",)
) -> tuple[Webhook, str]:
    return await create_webhook(rt, await admin_caller(tenant), url=url, events=events)


async def _settle(rt: Runtime, seconds: float = 5.0) -> None:
    """Dispatch until nothing is pending (retries included)."""
    deadline = time.monotonic() + seconds
    while await WebhookDelivery.filter(status=DeliveryStatus.PENDING).exists():
        assert time.monotonic() < deadline, "deliveries still pending"
        await dispatch_due(rt)
        await asyncio.sleep(0.01)


def _expected_signature(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


async def test_delivery_is_signed_json_that_verifies_with_the_secret(
    rt: Runtime, receiver: Receiver
) -> None:
    t = await make_account()
    hook, secret = await _hook(rt, t, receiver.url())
    await notify(rt, t.account.id, "RUN_FAILED", {"run": {"id": "U3luY1J1bjox"}})
    assert await dispatch_due(rt) == 1

    [req] = receiver.requests
    h = req.headers
    assert h["Content-Type"] == "application/json"
    assert h["X-Entrasync-Event"] == "RUN_FAILED"
    assert abs(int(h["X-Entrasync-Timestamp"]) - time.time()) < 10
    assert h["X-Entrasync-Signature"] == _expected_signature(
        secret, h["X-Entrasync-Timestamp"], req.body
    )
    assert verify(secret, h["X-Entrasync-Timestamp"], req.body, h["X-Entrasync-Signature"])
    assert not verify(
        "whsec_other", h["X-Entrasync-Timestamp"], req.body, h["X-Entrasync-Signature"]
    )
    body = json.loads(req.body)
    assert body["id"] == h["X-Entrasync-Delivery"]
    assert body["event"] == "RUN_FAILED"
    assert body["accountId"] == str(t.account.id)
    assert body["data"] == {"run": {"id": "U3luY1J1bjox"}}
    assert datetime.fromisoformat(body["occurredAt"]).tzinfo is not None

    row = await WebhookDelivery.get(webhook_id=hook.id)
    assert row.status is DeliveryStatus.DELIVERED
    assert (row.attempts, row.last_status_code, row.last_error) == (1, 200, "")
    assert row.delivered_at is not None and row.next_attempt_at is None
    assert str(row.delivery_id) == body["id"]


async def test_notify_queues_only_for_enabled_webhooks_of_the_account_that_want_the_event(
    rt: Runtime, receiver: Receiver
) -> None:
    t, other = await make_account(), await make_account()
    wants, _ = await _hook(rt, t, receiver.url("/a"), ("RUN_FAILED", "RUN_SUCCEEDED"))
    await _hook(rt, t, receiver.url("/b"), ("RUN_SUCCEEDED",))
    disabled, _ = await _hook(rt, t, receiver.url("/c"), ("RUN_FAILED",))
    await Webhook.filter(id=disabled.id).update(enabled=False)
    await _hook(rt, other, receiver.url("/d"), ("RUN_FAILED",))

    await notify(rt, t.account.id, WebhookEvent.RUN_FAILED, {})
    rows = await WebhookDelivery.all()
    assert [(r.webhook_id, r.account_id, r.event) for r in rows] == [
        (wants.id, t.account.id, WebhookEvent.RUN_FAILED)
    ]
    await _settle(rt)
    assert [r.path for r in receiver.requests] == ["/a"]


async def test_notify_never_raises_and_logs_what_it_dropped(
    rt: Runtime, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    t = await make_account()
    await _hook(rt, t, receiver.url())
    await notify(rt, t.account.id, "NOT_AN_EVENT", {})
    await notify(rt, t.account.id, "PING", {})
    await notify(rt, t.account.id, "RUN_FAILED", {"bad": object()})
    assert not await WebhookDelivery.exists()
    assert caplog.text.count("was not queued") == 3


async def test_server_errors_and_429_are_retried_with_growing_delays_until_delivered(
    rt: Runtime, receiver: Receiver
) -> None:
    t = await make_account()
    await _hook(rt, t, receiver.url())
    receiver.then(500, 429, 503)
    await notify(rt, t.account.id, "RUN_FAILED", {})
    await _settle(rt)

    assert len(receiver.requests) == 4
    row = await WebhookDelivery.get()
    assert row.status is DeliveryStatus.DELIVERED and row.attempts == 4
    gaps = [b.at - a.at for a, b in zip(receiver.requests, receiver.requests[1:], strict=False)]
    # base 0.05 s, doubling: at least 0.05, 0.1, 0.2 (plus polling and load)
    assert gaps[0] >= 0.045 and gaps[1] >= 0.095 and gaps[2] >= 0.195
    # the same delivery, byte for byte, each time; a fresh timestamp and signature per attempt
    assert len({r.body for r in receiver.requests}) == 1
    assert len({r.headers["X-Entrasync-Delivery"] for r in receiver.requests}) == 1


async def test_backoff_schedules_the_next_attempt_and_records_the_failure(
    rt: Runtime, receiver: Receiver
) -> None:
    t = await make_account()
    await _hook(rt, t, receiver.url())
    receiver.then(Answer(status=502, body="upstream down"))
    await notify(rt, t.account.id, "RUN_FAILED", {})
    before = datetime.now(UTC)
    await dispatch_due(rt)
    row = await WebhookDelivery.get()
    assert row.status is DeliveryStatus.PENDING and row.attempts == 1
    assert row.last_status_code == 502 and row.last_error == "HTTP 502: upstream down"
    assert row.claim_token is None
    assert row.next_attempt_at is not None
    assert timedelta(seconds=0.04) <= row.next_attempt_at - before <= timedelta(seconds=1)


def test_backoff_doubles_with_jitter_and_respects_the_caps() -> None:
    policy = WebhookPolicy()
    plain = WebhookPolicy(jitter=0.0)
    assert [plain.backoff(n) for n in range(1, 6)] == [60, 120, 240, 480, 960]
    assert sum(plain.backoff(n) for n in range(1, 6)) == 31 * 60  # six attempts over ~30 min
    assert plain.backoff(20) == plain.max_delay
    for n in range(1, 6):
        assert 0.75 * plain.backoff(n) <= policy.backoff(n) <= 1.25 * plain.backoff(n)
    assert plain.backoff(1, retry_after=600) == 600
    assert plain.backoff(1, retry_after=10**6) == plain.retry_after_cap
    assert plain.backoff(3, retry_after=1) == 240  # never sooner than the backoff


def test_retry_after_header_in_seconds_or_as_a_date() -> None:
    assert parse_retry_after("120") == 120
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None
    now = datetime(2026, 1, 1, tzinfo=UTC).timestamp()
    assert parse_retry_after("Thu, 01 Jan 2026 00:01:00 GMT", now=now) == 60
    assert parse_retry_after("Wed, 31 Dec 2025 00:00:00 GMT", now=now) == 0


async def test_retry_after_is_honoured_up_to_the_cap(rt: Runtime, receiver: Receiver) -> None:
    t = await make_account()
    await _hook(rt, t, receiver.url())
    receiver.then(
        Answer(status=429, headers={"Retry-After": "1"}),
        Answer(status=503, headers={"Retry-After": "3600"}),
    )
    await notify(rt, t.account.id, "RUN_FAILED", {})
    before = datetime.now(UTC)
    await dispatch_due(rt)
    row = await WebhookDelivery.get()
    assert row.next_attempt_at is not None
    assert timedelta(seconds=0.95) <= row.next_attempt_at - before <= timedelta(seconds=1.5)
    await WebhookDelivery.filter(id=row.id).update(next_attempt_at=datetime.now(UTC))
    before = datetime.now(UTC)
    await dispatch_due(rt)
    row = await WebhookDelivery.get()
    assert row.next_attempt_at is not None
    # FAST caps a receiver's Retry-After at 2 s
    assert timedelta(seconds=1.95) <= row.next_attempt_at - before <= timedelta(seconds=2.5)


async def test_retries_stop_after_the_last_attempt(rt: Runtime, receiver: Receiver) -> None:
    t = await make_account()
    await _hook(rt, t, receiver.url())
    receiver.default = Answer(status=500)
    await notify(rt, t.account.id, "RUN_FAILED", {})
    await _settle(rt)
    row = await WebhookDelivery.get()
    assert row.status is DeliveryStatus.FAILED
    assert row.attempts == FAST.max_attempts == len(receiver.requests)
    assert row.next_attempt_at is None and row.last_status_code == 500
    await asyncio.sleep(0.2)
    assert await dispatch_due(rt) == 0 and len(receiver.requests) == FAST.max_attempts


@pytest.mark.parametrize("status", [400, 401, 404, 410, 422])
async def test_a_client_error_is_final(rt: Runtime, receiver: Receiver, status: int) -> None:
    t = await make_account()
    await _hook(rt, t, receiver.url())
    receiver.then(Answer(status=status, body="gone"))
    await notify(rt, t.account.id, "RUN_FAILED", {})
    await _settle(rt)
    row = await WebhookDelivery.get()
    assert row.status is DeliveryStatus.FAILED and row.attempts == 1
    assert row.last_status_code == status and row.last_error == f"HTTP {status}: gone"
    assert len(receiver.requests) == 1


async def test_408_is_retried(rt: Runtime, receiver: Receiver) -> None:
    t = await make_account()
    await _hook(rt, t, receiver.url())
    receiver.then(408)
    await notify(rt, t.account.id, "RUN_FAILED", {})
    await _settle(rt)
    row = await WebhookDelivery.get()
    assert row.status is DeliveryStatus.DELIVERED and row.attempts == 2


async def test_redirects_are_not_followed(rt: Runtime, receiver: Receiver) -> None:
    t = await make_account()
    await _hook(rt, t, receiver.url())
    receiver.then(Answer(status=307, headers={"Location": receiver.url("/elsewhere")}))
    await notify(rt, t.account.id, "RUN_FAILED", {})
    await _settle(rt)
    row = await WebhookDelivery.get()
    assert row.status is DeliveryStatus.FAILED and row.last_status_code == 307
    assert "redirects are not followed" in row.last_error
    assert [r.path for r in receiver.requests] == ["/hook"]


async def test_only_a_short_excerpt_of_the_response_is_kept(
    rt: Runtime, receiver: Receiver
) -> None:
    t = await make_account()
    await _hook(rt, t, receiver.url())
    receiver.then(Answer(status=400, body="x" * 100_000))
    await notify(rt, t.account.id, "RUN_FAILED", {})
    await _settle(rt)
    row = await WebhookDelivery.get()
    assert row.last_error.startswith("HTTP 400: xxx") and len(row.last_error) <= 500


async def test_network_errors_and_timeouts_are_retried(
    settings: Settings, receiver: Receiver
) -> None:
    async with open_runtime(settings) as rt:
        configure(rt, WebhookPolicy(max_attempts=2, base_delay=0.01, jitter=0.0, timeout=0.2))
        t = await make_account()
        async with serve_receiver() as gone:
            closed_url = gone.url()  # nothing listens there once this block ends
        await _hook(rt, t, closed_url)
        await _hook(rt, t, receiver.url())
        receiver.default = Answer(delay=0.5)
        await notify(rt, t.account.id, "RUN_FAILED", {})
        await dispatch_due(rt)
        rows = await WebhookDelivery.all().order_by("id")
        assert [r.status for r in rows] == [DeliveryStatus.PENDING] * 2
        assert rows[0].last_error.startswith("network error") and rows[0].last_status_code is None
        assert rows[1].last_error == "no answer within 0.2 s"
        await _settle(rt)
        rows = await WebhookDelivery.all().order_by("id")
        assert [(r.status, r.attempts) for r in rows] == [(DeliveryStatus.FAILED, 2)] * 2
        assert len(receiver.requests) == 2


async def test_pending_deliveries_survive_a_restart(settings: Settings, receiver: Receiver) -> None:
    t = await make_account()
    async with open_runtime(settings) as first:
        configure(first, FAST)
        await _hook(first, t, receiver.url())
        receiver.then(500)
        await notify(first, t.account.id, "RUN_FAILED", {"n": 1})
        await notify(first, t.account.id, "RUN_FAILED", {"n": 2})
        # the process attempts one pass, then stops
        assert await dispatch_due(first) == 2
    assert len(receiver.requests) == 2
    pending = await WebhookDelivery.filter(status=DeliveryStatus.PENDING).count()
    assert pending == 1

    async with open_runtime(settings) as second:
        configure(second, FAST)
        await _settle(second)
    rows = await WebhookDelivery.all()
    assert {r.status for r in rows} == {DeliveryStatus.DELIVERED}
    assert {json.loads(r.body)["data"]["n"] for r in receiver.requests} == {1, 2}


async def test_a_dispatcher_that_dies_mid_attempt_leaves_the_delivery_to_another(
    settings: Settings, receiver: Receiver
) -> None:
    t = await make_account()
    short = WebhookPolicy(claim_seconds=0.2, base_delay=0.01, jitter=0.0)
    async with open_runtime(settings) as dead:
        configure(dead, short)
        await _hook(dead, t, receiver.url())
        await notify(dead, t.account.id, "RUN_FAILED", {})
        _, claimed = await _claim(short, datetime.now(UTC))  # claimed, then the process dies
        assert len(claimed) == 1
    async with open_runtime(settings) as alive:
        configure(alive, short)
        assert await dispatch_due(alive) == 0  # still claimed by the dead one
        await asyncio.sleep(0.25)
        assert await dispatch_due(alive) == 1
    row = await WebhookDelivery.get()
    assert row.status is DeliveryStatus.DELIVERED and row.attempts == 1
    assert len(receiver.requests) == 1


async def test_two_dispatchers_never_send_one_delivery_twice(
    settings: Settings, receiver: Receiver
) -> None:
    t = await make_account()
    receiver.default = Answer(delay=0.02)
    async with open_runtime(settings) as one, open_runtime(settings) as two:
        configure(one, FAST)
        configure(two, FAST)
        await _hook(one, t, receiver.url())
        for n in range(30):
            await notify(one, t.account.id, "RUN_FAILED", {"n": n})
        attempted = 0
        deadline = time.monotonic() + 10
        while await WebhookDelivery.filter(status=DeliveryStatus.PENDING).exists():
            assert time.monotonic() < deadline
            a, b = await asyncio.gather(dispatch_due(one), dispatch_due(two))
            attempted += a + b
    ids = [r.headers["X-Entrasync-Delivery"] for r in receiver.requests]
    assert len(ids) == len(set(ids)) == 30 == attempted
    assert await WebhookDelivery.filter(status=DeliveryStatus.DELIVERED, attempts=1).count() == 30


async def test_a_claim_is_taken_by_one_dispatcher_only(rt: Runtime, receiver: Receiver) -> None:
    t = await make_account()
    await _hook(rt, t, receiver.url())
    for _ in range(5):
        await notify(rt, t.account.id, "RUN_FAILED", {})
    now = datetime.now(UTC)
    # Both dispatchers saw the same due rows; the first to UPDATE wins them all.
    seen_by_one, seen_by_two = await due_ids(FAST, now), await due_ids(FAST, now)
    assert len(seen_by_one) == 5 and seen_by_one == seen_by_two
    token, won = await take(FAST, seen_by_one[:3], now)
    _, also_won = await take(FAST, seen_by_two, now)
    assert [d.id for d in won] == seen_by_one[:3]
    assert [d.id for d in also_won] == seen_by_two[3:]
    assert {d.claim_token for d in won} == {token}
    (_, left_a), (_, left_b) = await asyncio.gather(_claim(FAST, now), _claim(FAST, now))
    assert left_a == left_b == []


async def test_run_dispatcher_sends_at_once_when_notified_and_stops_when_told(
    rt: Runtime, receiver: Receiver
) -> None:
    t = await make_account()
    await _hook(rt, t, receiver.url())
    stop = asyncio.Event()
    task = asyncio.create_task(run_dispatcher(rt, stop=stop, poll=30.0))
    await asyncio.sleep(0.05)
    await notify(rt, t.account.id, "RUN_FAILED", {})
    deadline = time.monotonic() + 3
    while not receiver.requests:
        assert time.monotonic() < deadline, "the dispatcher was not woken"
        await asyncio.sleep(0.01)
    stop.set()
    await asyncio.wait_for(task, timeout=3)


async def test_a_disabled_webhook_is_sent_nothing(rt: Runtime, receiver: Receiver) -> None:
    t = await make_account()
    hook, _ = await _hook(rt, t, receiver.url())
    await notify(rt, t.account.id, "RUN_FAILED", {})
    await Webhook.filter(id=hook.id).update(enabled=False)
    await _settle(rt)
    row = await WebhookDelivery.get()
    assert row.status is DeliveryStatus.FAILED and "disabled" in row.last_error
    assert receiver.requests == []


async def test_rotation_signs_later_attempts_with_the_new_secret(
    rt: Runtime, receiver: Receiver
) -> None:
    t = await make_account()
    hook, old = await _hook(rt, t, receiver.url())
    _, new = await rotate_secret(rt, await admin_caller(t), hook.id)
    assert new != old and new.startswith("whsec_")
    await notify(rt, t.account.id, "RUN_FAILED", {})
    await _settle(rt)
    [req] = receiver.requests
    ts, sig = req.headers["X-Entrasync-Timestamp"], req.headers["X-Entrasync-Signature"]
    assert verify(new, ts, req.body, sig) and not verify(old, ts, req.body, sig)


async def _dump() -> str:
    conn = connections.get("default")
    out = []
    for table in ("webhook", "webhook_delivery"):
        for row in await conn.execute_query_dict(f'SELECT * FROM "{table}"'):
            out.append(repr(row))
    return "\n".join(out)


async def test_the_secret_is_stored_encrypted_bound_to_its_row_and_never_logged(
    rt: Runtime, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    t = await make_account()
    hook, secret = await _hook(rt, t, receiver.url())
    other, _ = await _hook(rt, t, receiver.url("/other"))
    receiver.then(500)
    await notify(rt, t.account.id, "RUN_FAILED", {})
    await _settle(rt)
    _, rotated = await rotate_secret(rt, await admin_caller(t), hook.id)

    dump = await _dump()
    for plain in (secret, rotated):
        assert plain not in dump
        assert plain not in caplog.text
        assert plain.removeprefix("whsec_") not in caplog.text
    stored = (await Webhook.get(id=hook.id)).signing_secret
    assert rt.cipher.decrypt(stored, bound_to=f"webhook:{hook.id}").decode() == rotated
    with pytest.raises(CipherError):
        rt.cipher.decrypt(stored, bound_to=f"webhook:{other.id}")


async def test_an_undecryptable_secret_fails_the_delivery_without_sending(
    rt: Runtime, receiver: Receiver
) -> None:
    t = await make_account()
    hook, _ = await _hook(rt, t, receiver.url())
    other, _ = await _hook(rt, t, receiver.url("/other"), ("RUN_SUCCEEDED",))
    # a ciphertext copied from another row does not decrypt here
    await Webhook.filter(id=hook.id).update(
        signing_secret=(await Webhook.get(id=other.id)).signing_secret
    )
    await notify(rt, t.account.id, "RUN_FAILED", {})
    await _settle(rt)
    row = await WebhookDelivery.get()
    assert row.status is DeliveryStatus.FAILED and "rotate it" in row.last_error
    assert receiver.requests == []


async def test_prune_drops_only_old_finished_deliveries(rt: Runtime, receiver: Receiver) -> None:
    t = await make_account()
    await _hook(rt, t, receiver.url())
    for _ in range(3):
        await notify(rt, t.account.id, "RUN_FAILED", {})
    rows = await WebhookDelivery.all().order_by("id")
    old = datetime.now(UTC) - timedelta(days=40)
    await WebhookDelivery.filter(id=rows[0].id).update(
        status=DeliveryStatus.DELIVERED, created_at=old
    )
    await WebhookDelivery.filter(id=rows[1].id).update(created_at=old)  # old but still pending
    assert await prune_deliveries(timedelta(days=30)) == 1
    assert [r.id for r in await WebhookDelivery.all().order_by("id")] == [r.id for r in rows[1:]]


# SSRF: what may be registered, and where a delivery may connect.

LOOPBACK_OK = WebhookPolicy()


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.example.com/entrasync",
        "https://hooks.example.com:8443/x?tenant=1",
        "http://localhost:9000/hook",
        "http://127.0.0.1:9000/hook",
        "http://[::1]:9000/hook",
        "https://8.8.8.8/hook",
    ],
)
def test_acceptable_webhook_urls(url: str) -> None:
    assert clean_url(url, LOOPBACK_OK)


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("", "characters"),
        ("https://example.com/" + "x" * 2100, "characters"),
        ("ftp://example.com/x", "https://"),
        ("file:///etc/passwd", "https://"),
        ("gopher://example.com", "https://"),
        ("javascript:alert(1)", "https://"),
        ("http://example.com/hook", "https is required"),
        ("https://user:pw@example.com/hook", "credentials"),
        ("https://token@example.com/hook", "credentials"),
        ("https://example.com/hook#frag", "fragment"),
        ("https://10.0.0.5/hook", "private"),
        ("https://192.168.1.1/hook", "private"),
        ("https://172.16.0.1/hook", "private"),
        ("https://100.64.0.1/hook", "private"),
        ("https://[fd00::1]/hook", "private"),
        ("https://169.254.169.254/latest/meta-data", "link-local"),
        ("https://[fe80::1]/hook", "link-local"),
        ("https://[::ffff:169.254.169.254]/", "link-local"),
        ("https://0.0.0.0/hook", "cannot receive"),
        ("https://224.0.0.1/hook", "cannot receive"),
        ("https:///nohost", "https://"),
    ],
)
def test_refused_webhook_urls(url: str, why: str) -> None:
    with pytest.raises(InvalidInput, match=why) as info:
        clean_url(url, LOOPBACK_OK)
    assert info.value.field == "url"


def test_loopback_and_private_networks_follow_the_policy() -> None:
    strict = WebhookPolicy(allow_loopback=False)
    with pytest.raises(InvalidInput, match="loopback"):
        clean_url("http://localhost:9000/hook", strict)
    with pytest.raises(InvalidInput, match="loopback"):
        clean_url("https://127.0.0.1/hook", strict)
    lan = WebhookPolicy(allow_private_networks=True)
    assert clean_url("https://10.1.2.3/hook", lan)
    with pytest.raises(InvalidInput, match="link-local"):
        clean_url("https://169.254.169.254/", lan)


async def test_pin_resolves_checks_and_keeps_the_name_for_host_and_tls() -> None:
    target = await pin("http://localhost:9000/hook?x=1", LOOPBACK_OK)
    assert target.url.host in ("127.0.0.1", "::1") and target.url.port == 9000
    assert target.url.path_qs == "/hook?x=1"
    assert target.host_header == "localhost:9000" and target.server_hostname is None
    with pytest.raises(AddressRefused):
        await pin("http://localhost:9000/hook", WebhookPolicy(allow_loopback=False))
    with pytest.raises(AddressRefused):
        await pin("https://10.0.0.1/hook", LOOPBACK_OK)


def test_every_special_address_is_refused() -> None:
    import ipaddress

    for text in (
        "169.254.1.1",
        "fe80::1",
        "0.0.0.0",
        "::",
        "224.0.0.5",
        "240.0.0.1",
        "::ffff:10.0.0.1",
    ):
        assert address_refusal(ipaddress.ip_address(text), LOOPBACK_OK), text
    assert address_refusal(ipaddress.ip_address("1.1.1.1"), LOOPBACK_OK) is None


async def test_the_address_is_checked_again_at_delivery_time(
    rt: Runtime, receiver: Receiver
) -> None:
    t = await make_account()
    await _hook(rt, t, receiver.url().replace("127.0.0.1", "localhost"))
    configure(rt, WebhookPolicy(allow_loopback=False))  # e.g. the deployment tightened its policy
    await notify(rt, t.account.id, "RUN_FAILED", {})
    await _settle(rt)
    row = await WebhookDelivery.get()
    assert row.status is DeliveryStatus.FAILED and "refused address" in row.last_error
    assert row.attempts == 1 and receiver.requests == []


async def test_a_loopback_name_is_sent_to_the_checked_address_with_its_host_header(
    rt: Runtime, receiver: Receiver
) -> None:
    t = await make_account()
    url = receiver.url().replace("127.0.0.1", "localhost")
    await _hook(rt, t, url)
    await notify(rt, t.account.id, "RUN_FAILED", {})
    await _settle(rt)
    [req] = receiver.requests
    assert req.headers["Host"] == url.split("/")[2]


# Event payloads for the sync and the connections.


async def _connection(tenant: Tenant, **values: Any) -> TenantConnection:
    return await TenantConnection.create(
        account_id=tenant.account.id,
        scope=ConnectionScope.ACCOUNT,
        entra_tenant_id="11111111-2222-3333-4444-555555555555",
        tenant_name="Contoso",
        **values,
    )


async def test_run_events_carry_the_runs_counters_and_api_ids(
    rt: Runtime, receiver: Receiver
) -> None:
    t = await make_account()
    await _hook(rt, t, receiver.url(), ("RUN_SUCCEEDED", "RUN_FAILED"))
    conn = await _connection(t, status=ConnectionStatus.CONNECTED)
    now = datetime.now(UTC)
    ok = await SyncRun.create(
        account_id=t.account.id,
        connection=conn,
        status=RunStatus.SUCCEEDED,
        created=3,
        updated=2,
        fetched=10,
        started_at=now,
        finished_at=now,
    )
    failed = await SyncRun.create(
        account_id=t.account.id,
        connection=conn,
        status=RunStatus.FAILED,
        error_message="Microsoft is unavailable",
    )
    cancelled = await SyncRun.create(
        account_id=t.account.id, connection=conn, status=RunStatus.CANCELLED
    )
    for run in (ok, failed, cancelled):
        await notify_run_finished(rt, run)
    await _settle(rt)
    bodies = [json.loads(r.body) for r in receiver.requests]
    assert [b["event"] for b in bodies] == ["RUN_SUCCEEDED", "RUN_FAILED"]
    run = bodies[0]["data"]["run"]
    assert run["id"] == encode_id("SyncRun", ok.id)
    assert run["connectionId"] == encode_id("TenantConnection", conn.id)
    assert (run["status"], run["created"], run["updated"], run["fetched"]) == (
        "SUCCEEDED",
        3,
        2,
        10,
    )
    assert run["finishedAt"] == now.isoformat() and run["dryRun"] is False
    assert bodies[1]["data"]["run"]["errorMessage"] == "Microsoft is unavailable"


async def test_connection_events_only_for_statuses_that_need_an_admin(
    rt: Runtime, receiver: Receiver
) -> None:
    t = await make_account()
    await _hook(rt, t, receiver.url(), ("CONNECTION_NEEDS_ATTENTION",))
    for status in ConnectionStatus:
        conn = await _connection(t, status=status, status_message=f"because {status.value}")
        await notify_connection_status(rt, conn)
    await _settle(rt)
    data = [json.loads(r.body)["data"]["connection"] for r in receiver.requests]
    assert sorted(d["status"] for d in data) == ["NEEDS_CONSENT", "NEEDS_REAUTH"]
    assert data[0]["tenantName"] == "Contoso"
    assert data[0]["statusMessage"] == f"because {data[0]['status']}"


async def test_key_rotation_re_encrypts_signing_secrets_under_the_primary_key(
    rt: Runtime, settings: Settings, receiver: Receiver
) -> None:
    t = await make_account()
    hook, secret = await _hook(rt, t, receiver.url())
    old_setting = (settings.data_dir / "encryption.key").read_text().strip()  # the dev key
    new_key = generate_key()
    both = TokenCipher.from_setting(f"k2:{new_key},{old_setting}")
    assert await rotate_secret_encryption(both) == 1
    assert await rotate_secret_encryption(both) == 0  # already under the primary key
    only_new = TokenCipher.from_setting(f"k2:{new_key}")
    stored = (await Webhook.get(id=hook.id)).signing_secret
    assert only_new.decrypt(stored, bound_to=f"webhook:{hook.id}").decode() == secret


async def test_notify_inside_a_transaction_commits_or_rolls_back_with_it(
    rt: Runtime, receiver: Receiver
) -> None:
    t = await make_account()
    await _hook(rt, t, receiver.url())
    receiver.default = Answer(delay=2.0)  # notify never waits for a receiver
    started = time.monotonic()
    with pytest.raises(RuntimeError):
        async with in_transaction():
            await notify(rt, t.account.id, "RUN_FAILED", {"n": 1})
            raise RuntimeError("the caller's change failed")
    async with in_transaction():
        await notify(rt, t.account.id, "RUN_FAILED", {"n": 2})
    assert time.monotonic() - started < 1.0
    rows = await WebhookDelivery.all()
    assert [json.loads(r.body)["data"] for r in rows] == [{"n": 2}]


async def test_the_readme_snippet_verifies_a_real_delivery(rt: Runtime, receiver: Receiver) -> None:
    readme = (pathlib.Path(__file__).parents[2] / "README.md").read_text()
    snippet = re.search(r"## Webhooks.*?```python\n(.*?)```", readme, re.S)
    assert snippet is not None
    namespace: dict[str, Any] = {}
    exec(snippet.group(1), namespace)
    t = await make_account()
    _, secret = await _hook(rt, t, receiver.url())
    await notify(rt, t.account.id, "RUN_FAILED", {})
    await _settle(rt)
    [req] = receiver.requests
    assert namespace["verify"](secret, req.headers, req.body)
    assert not namespace["verify"](secret, req.headers, req.body + b" ")
    assert not namespace["verify"]("whsec_wrong", req.headers, req.body)


def _self_signed(tmp: pathlib.Path, name: str) -> tuple[pathlib.Path, pathlib.Path]:
    """A certificate for `name` (and its key), to serve TLS on loopback."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp / f"{name}.pem", tmp / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.mark.parametrize(("cert_name", "delivered"), [("localhost", True), ("other.test", False)])
async def test_https_goes_to_the_checked_address_and_verifies_the_name(
    rt: Runtime, tmp_path: pathlib.Path, cert_name: str, delivered: bool
) -> None:
    import ssl

    import aiohttp
    from aiohttp import web

    cert, key = _self_signed(tmp_path, cert_name)
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert, key)
    client_ctx = ssl.create_default_context(cafile=str(cert))
    seen: list[str] = []

    async def handle(request: web.Request) -> web.Response:
        seen.append(request.headers["Host"])
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/hook", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=server_ctx)
    await site.start()
    port = runner.addresses[0][1]
    try:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=client_ctx)) as http:
            tls_rt = Runtime(cipher=rt.cipher, http=http, graph_url="", redirect_uri="")
            configure(tls_rt, FAST)
            t = await make_account()
            await _hook(tls_rt, t, f"https://localhost:{port}/hook")
            await notify(tls_rt, t.account.id, "RUN_FAILED", {})
            await dispatch_due(tls_rt)
    finally:
        await runner.cleanup()
    row = await WebhookDelivery.get()
    if delivered:
        assert row.status is DeliveryStatus.DELIVERED
        assert seen == [f"localhost:{port}"]
    else:
        # the certificate does not name the URL's host: refused, and retried later
        assert row.status is DeliveryStatus.PENDING and seen == []
        assert row.last_error.startswith("network error")


async def test_a_failing_notify_leaves_the_callers_transaction_usable(
    rt: Runtime, receiver: Receiver
) -> None:
    t = await make_account()
    await _hook(rt, t, receiver.url())
    async with in_transaction():
        await notify(rt, t.account.id, "RUN_FAILED", {"bad": object()})
        await notify(rt, t.account.id, "RUN_FAILED", {"n": 1})
        site = await Site.create(account_id=t.account.id, name="written after")
    assert await Site.exists(id=site.id)
    assert [json.loads(r.body)["data"] for r in await WebhookDelivery.all()] == [{"n": 1}]
