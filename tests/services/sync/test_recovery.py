"""R6 in one process: dead runs are found by start_sync and the scheduler; live ones are not."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from api.runtime import open_runtime
from api.settings import Settings
from models import RunStatus, SyncRun, TenantConnection, Webhook, WebhookDelivery, WebhookEvent
from schema.ids import encode_id
from services.events import run_topic
from services.scheduler import tick
from services.sync.liveness import Liveness
from services.sync.runs import recover_stale_runs, runner_of, start_sync

from .conftest import Harness, run_field, wait_until

LONG_AGO = timedelta(minutes=10)


async def _orphan(conn: TenantConnection, status: RunStatus, age: timedelta) -> SyncRun:
    """A run as a process that died left it: active, and silent for `age`."""
    then = datetime.now(UTC) - age
    run = await SyncRun.create(
        account_id=conn.account_id,
        connection_id=conn.id,
        active_connection_id=conn.id,
        status=status,
        heartbeat_at=then if status is RunStatus.RUNNING else None,
        worker="gone-host:4242" if status is RunStatus.RUNNING else "",
    )
    # created_at and queued_at are set on insert; move them back as well.
    await SyncRun.filter(id=run.id).update(created_at=then, queued_at=then)
    return run


async def test_r6_start_sync_fails_a_dead_run_of_its_connection_and_starts_anew(
    harness: Harness,
) -> None:
    conn = await harness.connect()
    dead = await _orphan(conn, RunStatus.RUNNING, LONG_AGO)

    run, created = await start_sync(harness.rt, harness.caller, conn)

    assert created and run.id != dead.id
    failed = await SyncRun.get(id=dead.id)
    assert failed.status is RunStatus.FAILED and failed.phase == "failed"
    assert failed.error_message == "interrupted: the process running it stopped"
    assert failed.active_connection_id is None and failed.finished_at is not None
    assert (await harness.wait(run)).status is RunStatus.SUCCEEDED


async def test_r6_an_interrupted_run_is_reported_to_run_failed_webhooks(harness: Harness) -> None:
    conn = await harness.connect()
    hook = await Webhook.create(
        account_id=conn.account_id,
        url="https://hooks.example/entrasync",
        events=["RUN_FAILED"],
        signing_secret="not used here",
    )
    dead = await _orphan(conn, RunStatus.RUNNING, LONG_AGO)

    assert await recover_stale_runs(harness.rt) == 1

    (delivery,) = await WebhookDelivery.filter(webhook_id=hook.id)
    body = json.loads(delivery.body)
    assert delivery.event is WebhookEvent.RUN_FAILED
    assert body["data"]["run"]["id"] == encode_id("SyncRun", dead.id)
    assert body["data"]["run"]["errorMessage"].startswith("interrupted")


async def test_r6_a_live_run_is_never_taken_for_dead(harness: Harness) -> None:
    conn = await harness.connect()
    live = await _orphan(conn, RunStatus.RUNNING, timedelta(seconds=5))

    run, created = await start_sync(harness.rt, harness.caller, conn)

    assert (run.id, created) == (live.id, False)  # R5: the running one is returned
    assert await recover_stale_runs(harness.rt) == 0
    assert (await SyncRun.get(id=live.id)).status is RunStatus.RUNNING


async def test_r6_scheduler_tick_fails_dead_runs_and_tells_their_subscribers(
    harness: Harness,
) -> None:
    conn = await harness.connect()
    dead = await _orphan(conn, RunStatus.RUNNING, LONG_AGO)

    async with harness.rt.bus.subscribe(run_topic(dead.id)) as events:
        assert await tick(harness.rt) == []
        event = await asyncio.wait_for(anext(events), 2)

    assert event["status"] == "FAILED" and event["error_message"].startswith("interrupted")
    assert (await SyncRun.get(id=dead.id)).status is RunStatus.FAILED


async def test_r6_a_run_no_worker_took_is_failed_after_the_queue_timeout(
    harness: Harness,
) -> None:
    conn = await harness.connect()
    waiting = await _orphan(conn, RunStatus.QUEUED, timedelta(minutes=5))
    # Queued runs may wait behind others: only the queue timeout (an hour by default) ends them.
    assert await recover_stale_runs(harness.rt) == 0

    harness.rt.liveness = Liveness(heartbeat_every=10, stale_after=60, queue_timeout=120)
    assert await recover_stale_runs(harness.rt, conn.id) == 1

    failed = await SyncRun.get(id=waiting.id)
    assert failed.status is RunStatus.FAILED
    assert failed.error_message.startswith("interrupted: not started within the queue timeout")


async def test_r6_a_run_failed_elsewhere_stops_writing_here_and_keeps_its_failure(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    """Taken for dead (a long pause, a partition): it must not race its successor."""
    harness.rt.liveness = Liveness(heartbeat_every=0.1, stale_after=30)
    tenant = harness.big_tenant(users=5000)
    conn = await harness.connect(domain=tenant.domain)
    harness.sim.state.faults.page_delay = 0.4
    run = await harness.start(conn)
    await wait_until(lambda: _fetched(run))

    # What recover_stale_runs on another process does to a run it believes dead.
    await SyncRun.filter(id=run.id).update(
        status=RunStatus.FAILED,
        error_message="interrupted: the process running it stopped",
        active_connection_id=None,
    )
    done = await harness.wait(run)

    assert done.status is RunStatus.FAILED
    assert done.error_message == "interrupted: the process running it stopped"
    assert done.fetched < 5000
    assert any("failed elsewhere" in r.getMessage() for r in caplog.records)


async def _fetched(run: SyncRun) -> bool:
    return bool(await run_field(run, "fetched"))


async def test_r1_embedded_runs_execute_in_this_process_and_record_it(harness: Harness) -> None:
    conn = await harness.connect()

    done = await harness.run(conn)

    assert done.worker == harness.rt.worker_name
    assert done.started_at is not None and done.heartbeat_at is not None


async def test_r1_a_run_the_queue_refuses_is_failed_not_left_queued(
    sim_settings: Settings, harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    conn = await harness.connect()
    # Nothing listens on port 9 (discard): the Redis queue cannot be reached.
    unreachable = sim_settings.model_copy(
        update={"redis_url": "redis://127.0.0.1:9/0", "workers": "external"}
    )
    caplog.set_level(logging.ERROR)
    async with open_runtime(unreachable) as rt:
        run, created = await start_sync(rt, harness.caller, conn)
        assert not runner_of(rt).executing_here(run.id)

    assert created and run.status is RunStatus.FAILED
    assert run.error_message == "not started: the run queue is unavailable; try again"
    assert run.active_connection_id is None
    # The connection is not blocked: the next run starts (here, in this process).
    assert (await harness.run(conn)).status is RunStatus.SUCCEEDED


def test_r6_liveness_settings_leave_room_for_missed_beats() -> None:
    with pytest.raises(ValidationError, match="at least twice"):
        Settings(run_heartbeat_seconds=10, run_stale_after_seconds=15)
    with pytest.raises(ValueError, match="at least twice"):
        Liveness(heartbeat_every=1, stale_after=1.5)
    with pytest.raises(ValidationError, match="needs ENTRASYNC_REDIS_URL"):
        Settings(workers="external")
    assert Settings(workers="external", redis_url="redis://127.0.0.1:6379/0").workers == "external"
