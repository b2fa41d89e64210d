"""One queued run, executed where the task queue delivered it: claim, heartbeat, finish (R1, R6)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from entra.errors import EntraError
from models import RunStatus, SyncRun, TenantConnection
from services.errors import DomainError
from services.runtime import Runtime
from services.sync.collector import relaxed_collection
from services.sync.engine import execute_run
from services.sync.guard import GuardTripped
from services.sync.progress import RunProgress
from services.sync.runs import (
    CANCELLED_MESSAGE,
    INTERRUPTED_MESSAGE,
    RunCancelled,
    phase_of,
    runner_of,
)
from services.webhooks.events import (
    notify_guard_tripped,
    notify_review_waiting,
    notify_run_finished,
)

log = logging.getLogger("entrasync.sync")

# What execute_queued_run returns for a delivery that found nothing to do.
NOT_CLAIMED = "NOT_CLAIMED"


class LeaseLost(Exception):
    """The run was failed by someone else while it executed here (taken for dead, R6)."""


async def execute_queued_run(rt: Runtime, run_id: int) -> str:
    """Execute run `run_id` to its end if it is still QUEUED; returns its final status.

    The run is claimed by a conditional update (QUEUED -> RUNNING, recording `rt.worker_name`),
    so a message delivered twice, or a run cancelled or failed before a worker took it, does
    nothing (NOT_CLAIMED). While it executes, a heartbeat proves it alive and carries a cancel
    asked on any process; the end is written only while the run is still this process's own.
    A run's own failures are recorded on it, never raised.
    """
    runner = runner_of(rt)
    with runner.executing(run_id) as attach:
        now = datetime.now(UTC)
        claimed = await SyncRun.filter(id=run_id, status=RunStatus.QUEUED).update(
            status=RunStatus.RUNNING,
            started_at=now,
            heartbeat_at=now,
            phase="starting",
            worker=rt.worker_name,
        )
        if not claimed:
            log.info("sync run %s: not queued any more, nothing to do", run_id)
            return NOT_CLAIMED
        log.info("sync run %s: started on %s", run_id, rt.worker_name)
        return (await _execute(rt, run_id, attach)).value


async def _execute(rt: Runtime, run_id: int, attach: Callable[[RunProgress], None]) -> RunStatus:
    """Everything after the claim: whatever happens, the run's end is recorded."""
    status, message = RunStatus.SUCCEEDED, ""
    progress: RunProgress | None = None
    beating: asyncio.Task[None] | None = None
    try:
        run = await SyncRun.get(id=run_id)
        progress = RunProgress(run, rt.bus)
        progress.cancel_requested = run.cancel_requested
        attach(progress)
        execution = asyncio.current_task()
        assert execution is not None
        beating = asyncio.create_task(
            _heartbeat(rt, run_id, progress, execution), name=f"sync-run-{run_id}-liveness"
        )
        await progress.publish(force=True)
        conn = await TenantConnection.get(id=run.connection_id)
        with relaxed_collection():
            await execute_run(rt, run, conn, progress)
    except RunCancelled:
        if runner_of(rt).stopping:  # asked by shutdown (its cancellation may have been lost)
            status, message = RunStatus.FAILED, INTERRUPTED_MESSAGE
        else:
            status, message = RunStatus.CANCELLED, CANCELLED_MESSAGE
    except GuardTripped as exc:  # nothing was written; the run keeps its slot (R5)
        status, message = RunStatus.AWAITING_APPROVAL, exc.verdict.message
    except asyncio.CancelledError:
        # This process is stopping, or the heartbeat found the run failed elsewhere (then the
        # end below finds it no longer ours and writes nothing).
        status, message = RunStatus.FAILED, INTERRUPTED_MESSAGE
    except (DomainError, EntraError) as exc:
        status, message = RunStatus.FAILED, exc.message
    except Exception:
        log.exception("sync run %s failed", run_id)
        status, message = RunStatus.FAILED, "internal error (see the worker's log)"
    finally:
        if beating is not None:
            beating.cancel()
            with contextlib.suppress(asyncio.CancelledError, LeaseLost):
                await beating
    await _finish(rt, run_id, progress, status, message)
    return status


async def _finish(
    rt: Runtime, run_id: int, progress: RunProgress | None, status: RunStatus, message: str
) -> None:
    now = datetime.now(UTC)
    # A run the mass-change guard paused has not finished: it holds its connection until an
    # admin approves or rejects it (services/sync/guard.py).
    paused = status is RunStatus.AWAITING_APPROVAL
    ends: dict[str, Any] = {} if paused else {"finished_at": now, "active_connection_id": None}
    ours = await SyncRun.filter(id=run_id, status=RunStatus.RUNNING, worker=rt.worker_name).update(
        status=status, error_message=message[:1000], phase=phase_of(status), **ends
    )
    if not ours:
        # Failed as interrupted by recover_stale_runs (it published that): its end stands.
        log.warning(
            "sync run %s: ended here as %s, but was already failed elsewhere", run_id, status
        )
        return
    log.info("sync run %s: %s on %s", run_id, status.value, rt.worker_name)
    if progress is None:
        progress = RunProgress(await SyncRun.get(id=run_id), rt.bus)
    else:
        run = progress.run
        run.status, run.error_message, run.phase = status, message[:1000], phase_of(status)
        if not paused:
            run.finished_at, run.active_connection_id = now, None
    await progress.publish(force=True)
    if paused:
        await notify_guard_tripped(rt, progress.run)
    else:
        await notify_run_finished(rt, progress.run)
        await notify_review_waiting(rt, progress.run)


async def _heartbeat(
    rt: Runtime, run_id: int, progress: RunProgress, execution: asyncio.Task[Any]
) -> None:
    """R6: prove the run alive every period, independently of batches (a page may spend long in
    Graph's retries); pick up a cancel asked on another process; stop the run if it was failed
    meanwhile, so that a run taken for dead does not go on writing beside its successor."""
    while True:
        await asyncio.sleep(rt.liveness.heartbeat_every)
        try:
            alive = await SyncRun.filter(
                id=run_id, status=RunStatus.RUNNING, worker=rt.worker_name
            ).update(heartbeat_at=datetime.now(UTC))
            if alive:
                flag = await SyncRun.filter(id=run_id).values_list("cancel_requested", flat=True)
                if flag and flag[0]:
                    progress.cancel_requested = True
                continue
        except Exception:  # a database outage fails the next batch; this only keeps the run alive
            log.warning("sync run %s: heartbeat not saved", run_id, exc_info=True)
            continue
        log.error("sync run %s: failed elsewhere while executing here; stopping it", run_id)
        progress.cancel_requested = True  # in case the cancellation is lost on its way
        execution.cancel()
        raise LeaseLost()
