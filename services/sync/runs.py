"""Sync runs: start (one per connection, R5), cancel, list, change logs, and the background runner."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from entra.errors import EntraError
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
from services.errors import ConnectionNotReady, DomainError, NotFound
from services.pagination import Page, page_by_id
from services.runtime import Runtime
from services.sync.progress import TERMINAL, RunProgress

log = logging.getLogger("entrasync.sync")

# A run whose heartbeat is older than this belongs to a process that died (R6).
STALE_AFTER = timedelta(minutes=2)


class RunCancelled(Exception):
    """Raised by the engine between batches when a cancel was asked."""


async def start_sync(
    rt: Runtime,
    caller: Caller | None,
    connection: TenantConnection,
    *,
    dry_run: bool = False,
    trigger: RunTrigger = RunTrigger.MANUAL,
) -> tuple[SyncRun, bool]:
    """Create a QUEUED run and launch it; returns (run, created). R5: while the connection has a
    run QUEUED or RUNNING, that run is returned instead (created False). Raises ConnectionNotReady
    for a connection that is not CONNECTED or not configured."""
    if connection.status is not ConnectionStatus.CONNECTED:
        raise ConnectionNotReady(connection.status.value, connection.status_message)
    if connection.configured_at is None:
        raise ConnectionNotReady("NOT_CONFIGURED", "configure the import first (configureImport)")
    await recover_stale_runs(connection.id)
    run = SyncRun(
        account_id=connection.account_id,
        connection_id=connection.id,
        active_connection_id=connection.id,
        dry_run=dry_run,
        trigger=trigger,
        requested_by=caller.api_key_id if caller else None,
    )
    try:
        async with in_transaction():
            await run.save()
    except IntegrityError:
        active = await SyncRun.get_or_none(active_connection_id=connection.id)
        if active is None:  # it finished between our insert and this read: try once more
            return await start_sync(rt, caller, connection, dry_run=dry_run, trigger=trigger)
        return active, False
    runner = rt.extras.get("runner")
    if not isinstance(runner, SyncRunner):
        runner = SyncRunner(rt)
        rt.extras["runner"] = runner
    runner.launch(run)
    return run, True


async def recover_stale_runs(connection_id: int | None = None) -> int:
    """R6: runs still QUEUED/RUNNING without a recent heartbeat died with their process."""
    cutoff = datetime.now(UTC) - STALE_AFTER
    qs = SyncRun.filter(status__in=(RunStatus.QUEUED, RunStatus.RUNNING))
    if connection_id is not None:
        qs = qs.filter(connection_id=connection_id)
    stale = [r for r in await qs if (r.heartbeat_at or r.created_at) < cutoff]
    for r in stale:
        await SyncRun.filter(id=r.id, status__in=(RunStatus.QUEUED, RunStatus.RUNNING)).update(
            status=RunStatus.FAILED,
            error_message="interrupted: the process running it stopped",
            active_connection_id=None,
            finished_at=datetime.now(UTC),
        )
    return len(stale)


async def cancel_sync(rt: Runtime, caller: Caller, run_id: int) -> SyncRun:
    """Ask a run to stop after its current batch. Raises PermissionDenied, NotFound."""
    caller.require_admin()
    run = await get_run(caller, run_id)
    if run.status not in TERMINAL:
        await SyncRun.filter(id=run.id).update(cancel_requested=True)
        run.cancel_requested = True
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
    caller: Caller, *, first: int, after_id: int | None, connection_id: int | None = None
) -> Page[SyncRun]:
    qs = SyncRun.filter(account_id=caller.account_id)
    if connection_id is not None:
        qs = qs.filter(connection_id=connection_id)
    # Newest first reads best, but keyset paging is by ascending id; callers page backwards.
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


class SyncRunner:
    """Runs syncs as asyncio tasks of this process (the embedded default)."""

    def __init__(self, rt: Runtime) -> None:
        self._rt = rt
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._progress: dict[int, RunProgress] = {}

    def launch(self, run: SyncRun) -> None:
        progress = RunProgress(run, self._rt.bus)
        self._progress[run.id] = progress
        task = asyncio.create_task(self._execute(progress), name=f"sync-run-{run.id}")
        self._tasks[run.id] = task
        task.add_done_callback(
            lambda _: (self._tasks.pop(run.id, None), self._progress.pop(run.id, None))
        )

    def request_cancel(self, run_id: int) -> None:
        progress = self._progress.get(run_id)
        if progress is not None:
            progress.cancel_requested = True

    async def wait(self, run_id: int) -> None:
        task = self._tasks.get(run_id)
        if task is not None:
            await asyncio.shield(task)

    async def shutdown(self) -> None:
        for task in list(self._tasks.values()):
            task.cancel()
        await asyncio.gather(*self._tasks.values(), return_exceptions=True)

    async def _execute(self, progress: RunProgress) -> None:
        from services.sync.engine import execute_run

        run = progress.run
        run.status = RunStatus.RUNNING
        run.started_at = run.heartbeat_at = datetime.now(UTC)
        run.phase = "starting"
        await run.save(update_fields=["status", "started_at", "heartbeat_at", "phase"])
        await progress.publish(force=True)
        status, message = RunStatus.SUCCEEDED, ""
        try:
            conn = await TenantConnection.get(id=run.connection_id)
            await execute_run(self._rt, run, conn, progress)
        except RunCancelled:
            status, message = RunStatus.CANCELLED, "cancelled by an admin"
        except asyncio.CancelledError:
            status, message = RunStatus.FAILED, "interrupted: the server shut down"
        except (DomainError, EntraError) as exc:
            status, message = RunStatus.FAILED, exc.message
        except Exception:
            log.exception("sync run %s failed", run.id)
            status, message = RunStatus.FAILED, "internal error (see the server log)"
        finally:
            run.status = status
            run.error_message = message[:1000]
            run.phase = "done" if status is RunStatus.SUCCEEDED else status.value.lower()
            run.finished_at = datetime.now(UTC)
            run.active_connection_id = None
            await run.save(
                update_fields=[
                    "status",
                    "error_message",
                    "phase",
                    "finished_at",
                    "active_connection_id",
                ]
            )
            await progress.publish(force=True)
