"""A run's live counters: kept in memory, saved per batch, published as snapshots (R1, R2)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from models import RunStatus, SyncRun
from services.events import EventBus, account_runs_topic, run_topic

COUNTERS = (
    "fetched",
    "created",
    "updated",
    "unchanged",
    "skipped_filter",
    "skipped_unmapped",
    "errors",
    "removed",
    "deactivated",
    "reactivated",
    # A gauge, not a count of this run's users: the connection's review items waiting.
    "review_waiting",
)
# The columns `RunProgress.save` writes, in order.
_SAVED = (*COUNTERS, "heartbeat_at")
TERMINAL = (RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED)


def snapshot(run: SyncRun) -> dict[str, Any]:
    """The event shape every subscriber sees, also built for a late subscriber from the row."""
    processed = (
        run.created
        + run.updated
        + run.unchanged
        + run.skipped_filter
        + run.skipped_unmapped
        + run.errors
    )
    percent: float | None = None
    if run.status is RunStatus.SUCCEEDED:
        percent = 100.0
    elif run.total:
        percent = round(min(99.9, 100.0 * processed / run.total), 1)
    return {
        "run_id": run.id,
        "connection_id": run.connection_id,
        "account_id": run.account_id,
        "status": run.status.value,
        "phase": run.phase,
        "mode": run.mode.value if run.mode is not None else None,
        "dry_run": run.dry_run,
        "total": run.total,
        "percent": percent,
        "error_message": run.error_message,
        **{name: getattr(run, name) for name in COUNTERS},
    }


class RunProgress:
    """The engine reports through this; it owns the run row while the run executes."""

    def __init__(self, run: SyncRun, bus: EventBus, *, min_interval: float = 0.1) -> None:
        self.run = run
        self._bus = bus
        self._min_interval = min_interval
        self._last_publish = 0.0
        self.cancel_requested = False

    async def publish(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_publish < self._min_interval:
            return
        self._last_publish = now
        event = snapshot(self.run)
        await self._bus.publish(run_topic(self.run.id), event)
        await self._bus.publish(account_runs_topic(self.run.account_id), event)

    async def phase(self, name: str, *, total: int | None = None) -> None:
        self.run.phase = name
        fields = ["phase", "heartbeat_at"]
        if total is not None:
            self.run.total = total
            fields.append("total")
        self.run.heartbeat_at = datetime.now(UTC)
        await self.run.save(update_fields=fields)
        await self.publish(force=True)

    def add(self, **counts: int) -> None:
        """Increment counters in memory; `save` persists them (within the batch's transaction)."""
        for name, value in counts.items():
            setattr(self.run, name, getattr(self.run, name) + value)

    async def save(self) -> None:
        """Persist counters and heartbeat, then publish; also notices a cancel asked elsewhere.

        One statement per batch (inside the batch's transaction when there is one): the
        counters' UPDATE returns the cancel flag (SQLite >= 3.35 and PostgreSQL)."""
        run = self.run
        run.heartbeat_at = datetime.now(UTC)
        db = SyncRun._meta.db
        dialect = db.capabilities.dialect
        marks = ["?"] * (len(COUNTERS) + 2)
        if dialect == "postgres":
            marks = [f"${n}" for n in range(1, len(COUNTERS) + 3)]
        sets = ", ".join(f'"{name}" = {mark}' for name, mark in zip(_SAVED, marks, strict=False))
        sql = (
            f'UPDATE "sync_run" SET {sets} WHERE "id" = {marks[-1]} '  # noqa: S608
            'RETURNING "cancel_requested"'
        )
        values = [*(getattr(run, name) for name in COUNTERS), run.heartbeat_at, run.id]
        # (execute_query_dict: Tortoise's PostgreSQL execute_query drops an UPDATE's rows)
        rows = await db.execute_query_dict(sql, values)
        if rows and rows[0]["cancel_requested"]:
            self.cancel_requested = True
        await self.publish()
