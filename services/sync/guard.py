"""The mass-change guard: a run that would change too many imported users waits for an admin.

"Imported users" are the end users of the connection's scope holding an intact link to its
tenant. A run *affects* one of them when it would update it, skip it (filtered out, unmapped,
bad data), report it REMOVED (a delta round), or not see it at all (a full round that Entra
did not return it in). Creations never count: they change nobody already imported.

When the guard applies (a real run, not approved yet, threshold set, at least
`rt.mass_change_min_users` imported users), the engine plans the whole round without writing,
counts, and either writes (planning again a full round's users it would write or log, a
delta round's chunks; engine._Kept) or raises GuardTripped, which leaves the run
AWAITING_APPROVAL, holding its connection's slot (R5) until `approve_run` queues it again (it
then executes without the guard) or `reject_run` cancels it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime

from models import ChangeLogEntry, RunStatus, SyncRun, TenantConnection
from services.caller import Caller
from services.connections import get_connection
from services.errors import InvalidInput, RunNotAwaitingApproval
from services.runtime import Runtime
from services.sync.progress import COUNTERS

log = logging.getLogger("entrasync.sync")

REJECTED_MESSAGE = "rejected by an admin (mass-change guard): nothing was written"


class GuardTripped(Exception):
    """Raised by the engine before any write: the run would change too many imported users."""

    def __init__(self, verdict: Verdict) -> None:
        super().__init__(verdict.message)
        self.verdict = verdict


@dataclass(frozen=True, slots=True)
class Verdict:
    imported: int
    affected: int
    threshold: float

    @property
    def share(self) -> float:
        return self.affected / self.imported if self.imported else 0.0

    @property
    def tripped(self) -> bool:
        return self.imported > 0 and self.affected > self.threshold * self.imported

    @property
    def message(self) -> str:
        return (
            f"mass-change guard: the run would change {self.affected:,} of {self.imported:,} "
            f"imported users ({_percent(self.share)}), more than the threshold of "
            f"{_percent(self.threshold)}; an admin must approve or reject it"
        )


def _percent(share: float) -> str:
    return f"{share * 100:.0f}%" if share * 100 >= 1 or share == 0 else f"{share * 100:.1g}%"


@dataclass(slots=True)
class MassChangeCount:
    """Counts the imported users a round affects, fed by the batch applier as it plans.

    `imported` is the set of linked object ids for a full round (whole scope loaded: those never
    seen are affected too), or just their number for a delta round (which sees only changes).
    """

    threshold: float
    imported_ids: frozenset[str] | None = None
    imported_count: int = 0
    affected_ids: set[str] = field(default_factory=set)
    seen_ids: set[str] = field(default_factory=set)

    def saw(self, object_id: str, *, linked: bool, unchanged: bool) -> None:
        """One Entra user (or `@removed` entry) of the round, and whether the run leaves the
        imported user it is linked to as it is."""
        if not linked:
            return
        self.seen_ids.add(object_id)
        if not unchanged:
            self.affected_ids.add(object_id)

    def verdict(self) -> Verdict:
        affected = len(self.affected_ids)
        imported = self.imported_count
        if self.imported_ids is not None:
            imported = len(self.imported_ids)
            affected += len(self.imported_ids - self.seen_ids)
        return Verdict(imported, min(affected, imported), self.threshold)


async def record(run: SyncRun, verdict: Verdict) -> None:
    """Keep the check's figures on the run (for every run the guard counted, dry runs too)."""
    run.guard_imported, run.guard_affected = verdict.imported, verdict.affected
    run.guard_threshold, run.guard_tripped = verdict.threshold, verdict.tripped
    await run.save(
        update_fields=["guard_imported", "guard_affected", "guard_threshold", "guard_tripped"]
    )


async def approve_run(rt: Runtime, caller: Caller, run_id: int) -> SyncRun:
    """Queue a paused run again; it executes once without the guard. It kept its connection's
    slot while paused, so no other run started meanwhile (R5).
    Raises PermissionDenied, NotFound, RunNotAwaitingApproval."""
    from services.sync.runs import _publish_row, get_run, runner_of

    caller.require_admin()
    run = await get_run(caller, run_id)
    now = datetime.now(UTC)
    won = await SyncRun.filter(id=run.id, status=RunStatus.AWAITING_APPROVAL).update(
        status=RunStatus.QUEUED,
        phase="queued",
        error_message="",
        approved_by=caller.api_key_id,
        approved_at=now,
        queued_at=now,
        cancel_requested=False,
        # The check's figures stay; the counters start again for the writes.
        **dict.fromkeys(COUNTERS, 0),
    )
    if not won:
        await run.refresh_from_db()
        raise RunNotAwaitingApproval(run.status.value)
    # The check's change log said what it would do; the writes log what they do.
    await ChangeLogEntry.filter(run_id=run.id, account_id=run.account_id).delete()
    log.info("sync run %s: approved by api key %s", run.id, caller.api_key_id)
    await _publish_row(rt, run.id, run.account_id)
    await run.refresh_from_db()
    try:
        await runner_of(rt).launch(run)
    except Exception as exc:  # the queue's own errors (redis, taskiq) are not ours to name
        log.error("sync run %s could not be queued: %s", run.id, exc)
        await SyncRun.filter(id=run.id, status=RunStatus.QUEUED).update(
            status=RunStatus.FAILED,
            phase="failed",
            error_message="not started: the run queue is unavailable; try again",
            finished_at=datetime.now(UTC),
            active_connection_id=None,
        )
        await _publish_row(rt, run.id, run.account_id)
        await run.refresh_from_db()
    return run


async def reject_run(rt: Runtime, caller: Caller, run_id: int) -> SyncRun:
    """Cancel a paused run (it wrote nothing) and free its connection.
    Raises PermissionDenied, NotFound, RunNotAwaitingApproval."""
    from services.sync.runs import _publish_row, get_run

    caller.require_admin()
    run = await get_run(caller, run_id)
    if not await end_paused(run, RunStatus.CANCELLED, REJECTED_MESSAGE):
        await run.refresh_from_db()
        raise RunNotAwaitingApproval(run.status.value)
    log.info("sync run %s: rejected by api key %s", run.id, caller.api_key_id)
    await _publish_row(rt, run.id, run.account_id)
    await run.refresh_from_db()
    return run


async def end_paused(run: SyncRun, status: RunStatus, message: str) -> bool:
    """Move a paused run to a final status (releasing its slot); False when it was not paused."""
    won = await SyncRun.filter(id=run.id, status=RunStatus.AWAITING_APPROVAL).update(
        status=status,
        phase=status.value.lower(),
        error_message=message[:1000],
        finished_at=datetime.now(UTC),
        active_connection_id=None,
    )
    return bool(won)


async def set_threshold(
    caller: Caller, connection_id: int, threshold: float | None
) -> TenantConnection:
    """Set the connection's guard threshold (a share in (0, 1]) or turn the guard off (None).
    Raises PermissionDenied, NotFound, InvalidInput."""
    caller.require_admin()
    if threshold is not None and not 0 < threshold <= 1:
        raise InvalidInput("threshold", "a share of the imported users, above 0 and at most 1")
    conn = await get_connection(caller, connection_id)
    conn.mass_change_threshold = threshold
    await conn.save(update_fields=["mass_change_threshold", "updated_at"])
    return conn
