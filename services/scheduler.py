"""Continuous sync (R4): per-connection schedules, and the loop that starts due runs.

Several schedulers may run at once (one per API process, or `entrasync scheduler` processes):
each due connection is claimed by a conditional UPDATE of its `next_sync_at`, and the run itself
is still guarded by the database's one-active-run-per-connection index (R5), so a connection is
never started twice, whatever the timing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime, timedelta

from models import ConnectionStatus, RunTrigger, SyncRun, TenantConnection
from services.caller import Caller
from services.connections import get_connection
from services.errors import DomainError, InvalidInput
from services.runtime import Runtime
from services.sync.runs import recover_stale_runs, start_sync

log = logging.getLogger("entrasync.scheduler")

MIN_INTERVAL_MINUTES = 5
MAX_INTERVAL_MINUTES = 7 * 24 * 60


async def set_schedule(
    caller: Caller, connection_id: int, interval_minutes: int | None
) -> TenantConnection:
    """Sync every `interval_minutes` (5 minutes to 7 days), or stop when None.

    The first scheduled run comes one interval from now. Raises PermissionDenied, NotFound,
    InvalidInput.
    """
    caller.require_admin()
    conn = await get_connection(caller, connection_id)
    if (
        interval_minutes is not None
        and not MIN_INTERVAL_MINUTES <= interval_minutes <= MAX_INTERVAL_MINUTES
    ):
        raise InvalidInput(
            "intervalMinutes",
            f"between {MIN_INTERVAL_MINUTES} and {MAX_INTERVAL_MINUTES} minutes, or null for off",
        )
    if interval_minutes is not None and conn.status is ConnectionStatus.DISCONNECTED:
        raise InvalidInput(
            "connectionId", "this connection is disconnected; connect it again first"
        )
    conn.sync_interval_minutes = interval_minutes
    conn.next_sync_at = (
        datetime.now(UTC) + timedelta(minutes=interval_minutes) if interval_minutes else None
    )
    await conn.save(update_fields=["sync_interval_minutes", "next_sync_at", "updated_at"])
    return conn


async def claim_due(now: datetime) -> list[TenantConnection]:
    """Connections whose next run is due, each claimed by this scheduler alone."""
    due = await TenantConnection.filter(
        status=ConnectionStatus.CONNECTED,
        sync_interval_minutes__not_isnull=True,
        next_sync_at__lte=now,
        configured_at__not_isnull=True,
    ).limit(100)
    claimed = []
    for conn in due:
        following = now + timedelta(minutes=conn.sync_interval_minutes or MAX_INTERVAL_MINUTES)
        won = await TenantConnection.filter(id=conn.id, next_sync_at=conn.next_sync_at).update(
            next_sync_at=following
        )
        if won == 1:
            conn.next_sync_at = following
            claimed.append(conn)
    return claimed


async def tick(rt: Runtime, now: datetime | None = None) -> list[SyncRun]:
    """One pass: fail runs of dead processes (R6), then start the due syncs."""
    now = now or datetime.now(UTC)
    await recover_stale_runs(rt)
    started = []
    for conn in await claim_due(now):
        try:
            run, created = await start_sync(rt, None, conn, trigger=RunTrigger.SCHEDULE)
        except DomainError as exc:
            log.warning("scheduled sync of connection %s not started: %s", conn.id, exc.message)
            continue
        if created:
            started.append(run)
    return started


async def run_scheduler(
    rt: Runtime, *, every: float = 30.0, stop: asyncio.Event | None = None
) -> None:
    """Tick every `every` seconds until `stop` is set; a failing tick is logged, never fatal."""
    stop = stop or asyncio.Event()
    while not stop.is_set():
        try:
            started = await tick(rt)
            if started:
                log.info("scheduler started %d run(s)", len(started))
        except Exception:
            log.exception("scheduler tick failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=every)
