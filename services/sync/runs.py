"""Sync runs: start (one per connection, R5), cancel, recover (R6), list, and the run queue's client."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any, Protocol

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models import (
    ChangeAction,
    ChangeLogEntry,
    ConnectionStatus,
    RunStatus,
    RunTrigger,
    SyncRun,
    TenantConnection,
)
from services.caller import Caller
from services.errors import ConnectionNotReady, NotFound
from services.pagination import Page, last_page_by_id, page_by_id
from services.runtime import Runtime
from services.sync.guard import end_paused
from services.sync.progress import TERMINAL, RunProgress
from services.webhooks.events import notify_run_finished

log = logging.getLogger("entrasync.sync")

CANCELLED_MESSAGE = "cancelled by an admin"
INTERRUPTED_MESSAGE = "interrupted: the process running it stopped"
# How long a stopping process waits for its runs to record their end (about one batch).
SHUTDOWN_WAIT = 30.0


class RunCancelled(Exception):
    """Raised by the engine between batches when a cancel was asked."""


async def start_sync(
    rt: Runtime,
    caller: Caller | None,
    connection: TenantConnection,
    *,
    dry_run: bool = False,
    trigger: RunTrigger = RunTrigger.MANUAL,
    proposed_policies: dict[str, object] | None = None,
) -> tuple[SyncRun, bool]:
    """Create a QUEUED run and hand it to the run queue; returns (run, created).

    R5: while the connection has a run QUEUED or RUNNING, that run is returned instead (created
    False); a run of that connection whose process died is failed first (R6), so it never blocks
    the next one. `proposed_policies` (a dry run's only) makes it a preview of those sync
    policies (issue 6) instead of the saved ones. A run the queue refuses (Redis down) is returned FAILED, never left QUEUED.
    Raises ConnectionNotReady for a connection that is not CONNECTED or not configured.
    """
    if connection.status is not ConnectionStatus.CONNECTED:
        raise ConnectionNotReady(connection.status.value, connection.status_message)
    if connection.configured_at is None:
        raise ConnectionNotReady("NOT_CONFIGURED", "configure the import first (configureImport)")
    await recover_stale_runs(rt, connection.id)
    run = SyncRun(
        account_id=connection.account_id,
        connection_id=connection.id,
        active_connection_id=connection.id,
        dry_run=dry_run,
        trigger=trigger,
        requested_by=caller.api_key_id if caller else None,
        proposed_policies=proposed_policies,
    )
    try:
        async with in_transaction():
            await run.save()
    except IntegrityError:
        active = await SyncRun.get_or_none(active_connection_id=connection.id)
        if active is None:  # it finished between our insert and this read: try once more
            return await start_sync(
                rt,
                caller,
                connection,
                dry_run=dry_run,
                trigger=trigger,
                proposed_policies=proposed_policies,
            )
        return active, False
    try:
        await runner_of(rt).launch(run)
    except Exception as exc:  # the queue's own errors (redis, taskiq) are not ours to name
        log.error("sync run %s could not be queued: %s", run.id, exc)
        await _end(run, RunStatus.FAILED, "not started: the run queue is unavailable; try again")
        await run.refresh_from_db()
        await notify_run_finished(rt, run)
    return run, True


async def recover_stale_runs(rt: Runtime, connection_id: int | None = None) -> int:
    """R6: fail the runs whose process died, so that they no longer block their connection.

    A RUNNING run is dead when its heartbeat is older than `rt.liveness.stale_after`; a QUEUED
    one when no worker claimed it within `rt.liveness.queue_timeout`. Each is failed by a
    conditional update, so a run that beats (or is claimed) meanwhile is left alone and several
    processes may recover at once. Subscribers get the failed run. Returns how many were failed.
    """
    now = datetime.now(UTC)
    # Only active runs hold active_connection_id: its unique index keeps this off a full scan.
    active = SyncRun.filter(active_connection_id__not_isnull=True)
    if connection_id is not None:
        active = SyncRun.filter(active_connection_id=connection_id)
    dead_if = {
        RunStatus.RUNNING: (
            "heartbeat_at__lt",
            now - rt.liveness.stale_delta,
            INTERRUPTED_MESSAGE,
        ),
        RunStatus.QUEUED: (
            "queued_at__lt",
            now - rt.liveness.queue_delta,
            "interrupted: not started within the queue timeout (no worker running, or the "
            "process that queued it stopped)",
        ),
    }
    failed = 0
    for status, (older, cutoff, message) in dead_if.items():
        for run in await active.filter(status=status, **{older: cutoff}):
            won = await SyncRun.filter(
                id=run.id, account_id=run.account_id, status=status, **{older: cutoff}
            ).update(
                status=RunStatus.FAILED,
                phase="failed",
                error_message=message,
                active_connection_id=None,
                finished_at=now,
            )
            if won:
                failed += 1
                log.warning("sync run %s (worker %r): %s", run.id, run.worker or "-", message)
                await _publish_row(rt, run.id, run.account_id)
    return failed


async def cancel_sync(rt: Runtime, caller: Caller, run_id: int) -> SyncRun:
    """Ask a run to stop after its current batch (wherever it executes: the flag is read per
    batch and per heartbeat); a run not started yet is cancelled at once.
    Raises PermissionDenied, NotFound."""
    caller.require_admin()
    run = await get_run(caller, run_id)
    if run.status in TERMINAL:
        return run
    await SyncRun.filter(id=run.id).update(cancel_requested=True)
    run.cancel_requested = True
    if run.status is RunStatus.AWAITING_APPROVAL:  # paused by the mass-change guard
        ended = await end_paused(run, RunStatus.CANCELLED, CANCELLED_MESSAGE)
    else:
        ended = run.status is RunStatus.QUEUED and await _end(
            run, RunStatus.CANCELLED, CANCELLED_MESSAGE
        )
    if ended:
        await _publish_row(rt, run.id, run.account_id)
        await run.refresh_from_db()
        return run
    runner = rt.extras.get("runner")
    if isinstance(runner, SyncRunner):
        runner.request_cancel(run.id)
    return run


async def get_run(caller: Caller, run_id: int) -> SyncRun:
    run = await SyncRun.get_or_none(id=run_id, account_id=caller.account_id)
    if run is None:
        raise NotFound("sync run")
    return run


async def list_runs(
    caller: Caller,
    *,
    first: int,
    after_id: int | None,
    connection_id: int | None = None,
    last: int | None = None,
    before_id: int | None = None,
) -> Page[SyncRun]:
    """The account's runs in id order: `first` after `after_id`, or with `last`, the newest
    `last` before `before_id` (how a UI shows the latest runs of a long history)."""
    qs = SyncRun.filter(account_id=caller.account_id)
    if connection_id is not None:
        qs = qs.filter(connection_id=connection_id)
    if last is not None:
        return await last_page_by_id(qs, last=last, before_id=before_id)
    return await page_by_id(qs, first=first, after_id=after_id)


async def list_changes(
    caller: Caller,
    run_id: int,
    *,
    first: int,
    after_id: int | None,
    action: ChangeAction | None = None,
    reason: str | None = None,
) -> Page[ChangeLogEntry]:
    run = await get_run(caller, run_id)
    qs = ChangeLogEntry.filter(run_id=run.id, account_id=caller.account_id)
    if action is not None:
        qs = qs.filter(action=action)
    if reason:
        qs = qs.filter(reason=reason)
    return await page_by_id(qs, first=first, after_id=after_id)


def phase_of(status: RunStatus) -> str:
    return "done" if status is RunStatus.SUCCEEDED else status.value.lower()


async def _end(
    run: SyncRun, status: RunStatus, message: str, *, was: RunStatus = RunStatus.QUEUED
) -> bool:
    """Move `run` from `was` to a final status; False when it was no longer `was`."""
    won = await SyncRun.filter(id=run.id, status=was).update(
        status=status,
        phase=phase_of(status),
        error_message=message[:1000],
        finished_at=datetime.now(UTC),
        active_connection_id=None,
    )
    return bool(won)


async def _publish_row(rt: Runtime, run_id: int, account_id: int) -> None:
    """Tell subscribers (and webhooks) of a run that ended without the process running it."""
    run = await SyncRun.get_or_none(id=run_id, account_id=account_id)
    if run is not None:
        await RunProgress(run, rt.bus).publish(force=True)
        await notify_run_finished(rt, run)


class RunQueue(Protocol):
    """Where queued runs go to be executed (services/tasks.py: taskiq, in memory or Redis)."""

    async def enqueue(self, run_id: int) -> None: ...

    async def close(self) -> None: ...


class SyncRunner:
    """This process's side of the run queue: queues runs, and tracks those it executes itself.

    One per Runtime, as `rt.extras["runner"]`. Runs execute wherever the queue delivers them
    (this process in embedded mode, an `entrasync worker` otherwise); `wait` works either way.
    """

    def __init__(self, queue: RunQueue) -> None:
        self.queue = queue
        self._executing: dict[int, tuple[asyncio.Task[Any], RunProgress | None]] = {}
        # Set by shutdown: runs executing here end as interrupted, not as cancelled by an admin.
        self.stopping = False

    async def launch(self, run: SyncRun) -> None:
        await self.queue.enqueue(run.id)

    @contextlib.contextmanager
    def executing(self, run_id: int) -> Iterator[Callable[[RunProgress], None]]:
        """Mark run `run_id` as executing in the current task until the block ends; the yielded
        function attaches its progress once the run is claimed (for a fast local cancel)."""
        task = asyncio.current_task()
        assert task is not None
        task.set_name(f"sync-run-{run_id}")  # in logs and tracebacks, whichever queue started it

        def attach(progress: RunProgress) -> None:
            progress.cancel_requested |= self.stopping
            self._executing[run_id] = (task, progress)

        self._executing[run_id] = (task, None)
        try:
            yield attach
        finally:
            self._executing.pop(run_id, None)

    def executing_here(self, run_id: int) -> bool:
        return run_id in self._executing

    def request_cancel(self, run_id: int) -> None:
        """The flag in the database reaches any process; this spares a local run the wait."""
        progress = self._executing.get(run_id, (None, None))[1]
        if progress is not None:
            progress.cancel_requested = True

    async def wait(self, run_id: int, *, poll: float = 0.02) -> None:
        """Return once run `run_id` is over: its task here has finished (events included), or
        the database says it ended (when another process executes it)."""
        while True:
            entry = self._executing.get(run_id)
            if entry is not None:
                await asyncio.wait({entry[0]})  # never cancels it, never raises its outcome
                return
            status = await SyncRun.filter(id=run_id).first().values_list("status", flat=True)
            if status is None or RunStatus(str(status)) in (*TERMINAL, RunStatus.AWAITING_APPROVAL):
                return
            await asyncio.sleep(poll)

    async def shutdown(self) -> None:
        """Stop the runs executing here (they end FAILED "interrupted", R6), then the queue.

        Each run is cancelled and also asked to stop at its next batch: a cancellation can be
        lost inside a client library (redis-py swallows some), the flag cannot. A run still
        going after SHUTDOWN_WAIT is left to recover_stale_runs.
        """
        if self.stopping:
            return
        self.stopping = True
        tasks = []
        for task, progress in self._executing.values():
            if progress is not None:
                progress.cancel_requested = True
            task.cancel()
            tasks.append(task)
        if tasks:
            _, late = await asyncio.wait(tasks, timeout=SHUTDOWN_WAIT)
            for task in late:
                log.error("%s did not stop within %gs", task.get_name(), SHUTDOWN_WAIT)
        await self.queue.close()


def runner_of(rt: Runtime) -> SyncRunner:
    """The process's runner; a Runtime built without one gets the embedded queue."""
    runner = rt.extras.get("runner")
    if not isinstance(runner, SyncRunner):
        from services.tasks import embedded_queue

        runner = SyncRunner(embedded_queue(rt))
        rt.extras["runner"] = runner
    return runner
