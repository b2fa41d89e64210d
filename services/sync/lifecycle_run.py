"""One run's lifecycle policy and pins: states of pinned and inactive users, transitions, look-ups."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import UTC, datetime

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from entra.errors import EntraError
from entra.types import EntraUser, MailboxPurposes, RemovedUser
from models import SyncRun, TenantConnection
from services.sync.config import SyncConfig
from services.sync.lifecycle import (
    ACTIVE_ACTION,
    DEFAULT_ACTIVITY,
    DELETED,
    DISABLED,
    EXCLUDE,
    EXEMPT_PURPOSES,
    INACTIVE_ACTION,
    MAILBOX_UNKNOWN,
    OUT_OF_SCOPE,
    REMOVED_CAUSES,
    SKIP_ACTION,
    Activity,
    Transition,
    excluded,
    next_state,
    planned_cause,
)
from services.sync.planner import Decision, DecisionKind
from services.sync.progress import RunProgress
from services.sync.rules import email_key
from services.sync.scope import IN_CHUNK, scope_of
from services.sync.snapshot import ScopeIndex
from services.sync.writer import (
    MAX_LOG_DISPLAY_NAME,
    MAX_LOG_EMAIL,
    MAX_LOG_OBJECT_ID,
    ActivityUpdate,
    ChangeRow,
    insert_changes,
    loggable,
    set_activity,
)

log = logging.getLogger("entrasync.sync")

MailboxLookup = Callable[[list[str]], Awaitable[MailboxPurposes]]
# Absentees of a full round written per transaction.
ABSENT_BATCH = 1000
_ACTIVITY_COLUMNS = ("id", "active", "inactive_reason", "pin")


class LifecycleRun:
    """The lifecycle policy (MARK_INACTIVE or KEEP) and the pins, applied along one run.

    Only the scope's users that are not in the default state are loaded (pinned, or inactive
    under MARK_INACTIVE; just the EXCLUDE pins under KEEP): once per full round, per batch for
    a delta round. With no such user and the policy KEEP, every hook returns at once.
    """

    def __init__(
        self, conn: TenantConnection, config: SyncConfig, mailboxes: MailboxLookup | None
    ) -> None:
        self._conn = conn
        self._tenant = config.tenant_id
        self.policy = config.policies.lifecycle
        self.marks = self.policy == "MARK_INACTIVE"
        self._exempt_shared = self.marks and config.policies.exempt_shared_mailboxes
        self._mailboxes = mailboxes
        self._states: dict[int, Activity] = {}
        # What this run's committed (or dry-run) transitions left, over the loaded states.
        self._overlay: dict[int, Activity] = {}
        # Entra ids this run saw (full rounds: the others are absent), when the policy marks.
        self.seen: set[str] = set()
        # Entra id -> exempt (True), not exempt (False), or undecidable (None), per run.
        self._exempt: dict[str, bool | None] = {}
        self._denied = False

    # -- states ------------------------------------------------------------------------------

    def _special(self) -> Q:
        if self.marks:
            return Q(active=False) | Q(pin__not_isnull=True)
        return Q(pin=EXCLUDE)

    async def load_scope(self) -> None:
        """A full round: the scope's users not in the default state, in one query."""
        rows = await scope_of(self._conn).filter(self._special()).values_list(*_ACTIVITY_COLUMNS)
        self._states = {int(r[0]): Activity(bool(r[1]), r[2], r[3]) for r in rows}

    async def load_users(self, ids: Iterable[int]) -> None:
        """A delta batch: the states of the stored users it can match (by primary key)."""
        wanted = [i for i in dict.fromkeys(ids) if i > 0]
        for user_id in wanted:
            self._states.pop(user_id, None)
        for start in range(0, len(wanted), IN_CHUNK):
            rows = await (
                scope_of(self._conn)
                .filter(id__in=wanted[start : start + IN_CHUNK])
                .filter(self._special())
                .values_list(*_ACTIVITY_COLUMNS)
            )
            for r in rows:
                self._states[int(r[0])] = Activity(bool(r[1]), r[2], r[3])

    def state(self, user_id: int) -> Activity:
        found = self._overlay.get(user_id)
        if found is None:
            found = self._states.get(user_id, DEFAULT_ACTIVITY)
        return found

    def commit(self, transitions: Iterable[Transition | None]) -> None:
        """Transitions written (or, in a dry run, logged): later batches see their outcome."""
        for t in transitions:
            if t is not None and t.action != SKIP_ACTION:
                self._overlay[t.end_user_id] = t.after

    # -- per batch ---------------------------------------------------------------------------

    def screen(self, decision: Decision) -> Decision:
        """A pin EXCLUDE turns the update (or no-op) of its user into a logged skip."""
        if not (self._states or self._overlay):
            return decision
        if decision.kind not in (DecisionKind.UPDATE, DecisionKind.UNCHANGED):
            return decision
        if decision.existing_id is None or self.state(decision.existing_id).pin != EXCLUDE:
            return decision
        return excluded(decision)

    async def plan(
        self,
        items: Sequence[tuple[EntraUser, Decision, int | None]],
        removed: Sequence[RemovedUser],
        index: ScopeIndex,
    ) -> tuple[list[Transition | None], list[Transition]]:
        """The transitions of one batch: one per planned (user, decision, created id) or None,
        and those of its `@removed` entries. Disabled users about to be deactivated are looked
        up first when shared mailboxes are exempt (only they, a few per batch)."""
        if not self.marks:
            return [None] * len(items), []
        planned: list[Transition | None] = []
        for user, decision, created_id in items:
            self.seen.add(user.id)
            planned.append(self._planned(user, decision, created_id, index))
        gone: list[Transition] = []
        for r in removed:
            self.seen.add(r.id)
            cause = REMOVED_CAUSES.get(r.reason)
            held = index.linked(self._tenant, r.id)
            if cause is not None and held is not None and held.id > 0:
                t = self._transition(held.id, cause, r.id, held.email, held.site_id, "")
                if t is not None:
                    gone.append(t)
        if self._exempt_shared:
            await self._apply_exemption(planned)
        return planned, gone

    def _planned(
        self, user: EntraUser, decision: Decision, created_id: int | None, index: ScopeIndex
    ) -> Transition | None:
        applies, cause = planned_cause(user, decision)
        if not applies:
            return None
        site_id: int | None
        if decision.kind is DecisionKind.SKIP:
            # Filters and routing come before matching: the user is the one linked to it.
            held = index.linked(self._tenant, user.id)
            if held is None or held.id <= 0:
                return None
            user_id, email, site_id = held.id, held.email, held.site_id
        elif decision.kind is DecisionKind.CREATE:
            if created_id is None:
                return None
            user_id, email, site_id = created_id, decision.email or "", decision.site_id
        else:
            if decision.existing_id is None or decision.existing_id <= 0:
                return None
            user_id, email, site_id = decision.existing_id, decision.email or "", decision.site_id
        return self._transition(user_id, cause, user.id, email, site_id, user.display_name)

    def _transition(
        self,
        user_id: int,
        cause: str | None,
        entra_id: str,
        email: str,
        site_id: int | None,
        display_name: str | None,
    ) -> Transition | None:
        before = self.state(user_id)
        step = next_state(before, cause, self.policy)
        if step is None:
            return None
        action, code = step
        return Transition(
            action, code, user_id, entra_id, email, site_id, display_name or "", before
        )

    async def _apply_exemption(self, planned: list[Transition | None]) -> None:
        """`exempt_shared_mailboxes`: a disabled shared, room or equipment mailbox stays active.

        Undecidable (the look-up was refused or failed): the user stays active too, logged as
        SKIP MAILBOX_UNKNOWN, since a possibly shared mailbox must not be deactivated by guess.
        """
        candidates = [
            t
            for t in planned
            if t is not None and t.action == INACTIVE_ACTION and t.code == DISABLED
        ]
        if not candidates:
            return
        await self._look_up([t.entra_id for t in candidates if t.entra_id not in self._exempt])
        for at, t in enumerate(planned):
            if t is None or t.action != INACTIVE_ACTION or t.code != DISABLED:
                continue
            verdict = self._exempt.get(t.entra_id)
            if verdict is True:
                planned[at] = None
            elif verdict is None:
                t.action, t.code = SKIP_ACTION, MAILBOX_UNKNOWN

    async def _look_up(self, ids: list[str]) -> None:
        if not ids:
            return
        if self._denied or self._mailboxes is None:
            self._exempt.update(dict.fromkeys(ids))
            return
        try:
            found = await self._mailboxes(ids)
        except EntraError as exc:
            log.warning("mailbox purposes could not be read (%s); disabled users stay active", exc)
            self._exempt.update(dict.fromkeys(ids))
            return
        for object_id, purpose in found.purposes.items():
            self._exempt[object_id] = purpose.casefold() in EXEMPT_PURPOSES
        for object_id in found.no_mailbox:
            self._exempt[object_id] = False
        for object_id in found.denied | found.failed:
            self._exempt[object_id] = None
        if found.denied:
            # Refused for one is refused for all (a missing permission): ask no more this run.
            self._denied = True
            log.warning(
                "mailbox settings not readable (MailboxSettings.Read application permission "
                "missing?); disabled users that may be shared mailboxes stay active"
            )

    # -- end of a full round, and delta look-ups -------------------------------------------

    def absentees(self, index: ScopeIndex) -> list[Transition]:
        """After every page of a full round: users linked to this tenant that Entra no longer
        returned (hard-deleted, or soft-deleted: /users omits them) turn inactive DELETED."""
        if not self.marks:
            return []
        out: list[Transition] = []
        for object_id in sorted(index.linked_object_ids(self._tenant) - self.seen):
            held = index.linked(self._tenant, object_id)
            if held is None or held.id <= 0:
                continue
            t = self._transition(held.id, DELETED, object_id, held.email, held.site_id, "")
            if t is not None:
                out.append(t)
        return out

    async def write_absentees(self, run: SyncRun, progress: RunProgress, index: ScopeIndex) -> None:
        """Deactivate (a dry run: log) the full round's absentees, a transaction per chunk."""
        absent = self.absentees(index)
        for start in range(0, len(absent), ABSENT_BATCH):
            chunk = absent[start : start + ABSENT_BATCH]
            added = False
            try:
                async with in_transaction() as db:
                    if not run.dry_run:
                        await write_transitions(db, chunk)
                    await insert_changes(db, run.id, run.account_id, [row_of(t) for t in chunk])
                    progress.add(deactivated=len(chunk))
                    added = True
                    await progress.save()
            except BaseException:
                if added:
                    progress.add(deactivated=-len(chunk))
                raise
            self.commit(chunk)
        if absent:
            log.info(
                "sync run %s: %d users absent from the full round marked inactive",
                run.id,
                len(absent),
            )

    async def look_ups(self, members: frozenset[str] | None) -> list[str]:
        """A delta round with a group filter: users linked to this tenant whose membership
        turned since they were planned, which /users/delta does not list (joining or leaving a
        group changes the group, not the user). Looked up by id and planned like the others:
        active unpinned users no longer in the groups (to mark OUT_OF_SCOPE), and users marked
        OUT_OF_SCOPE that are members again (to reactivate)."""
        if not self.marks or members is None:
            return []
        rows = await (
            scope_of(self._conn)
            .filter(
                entra_tenant_id=self._tenant,
                entra_object_id__not_isnull=True,
                pin__isnull=True,
            )
            .filter(Q(active=True) | Q(inactive_reason=OUT_OF_SCOPE))
            .values_list("entra_object_id", "entra_last_email", "email_key", "active")
        )
        return sorted(
            {
                str(object_id)
                for object_id, last_email, key, active in rows
                if (object_id not in members) == bool(active)
                and last_email is not None
                and email_key(str(last_email)) == key
            }
        )


def counts_of(transitions: Iterable[Transition | None]) -> dict[str, int]:
    """The run counters (deactivated, reactivated) these transitions add to."""
    counts: dict[str, int] = {}
    for t in transitions:
        if t is None:
            continue
        name = {INACTIVE_ACTION: "deactivated", ACTIVE_ACTION: "reactivated"}.get(t.action)
        if name is not None:
            counts[name] = counts.get(name, 0) + 1
    return counts


def row_of(t: Transition) -> ChangeRow:
    """The change-log row of a transition (R8): action INACTIVE/ACTIVE (or SKIP), its code."""
    return ChangeRow(
        action=t.action,
        entra_object_id=loggable(t.entra_id, MAX_LOG_OBJECT_ID),
        email=loggable(t.email, MAX_LOG_EMAIL),
        display_name=loggable(t.display_name, MAX_LOG_DISPLAY_NAME),
        end_user_id=t.end_user_id if t.end_user_id > 0 else None,
        site_id=t.site_id,
        reason=t.code,
        changes=t.changes,
    )


async def write_transitions(
    db: BaseDBAsyncClient, transitions: Iterable[Transition | None]
) -> None:
    """Write the INACTIVE/ACTIVE transitions (ids must be real by now) on a transaction."""
    now = datetime.now(UTC)
    updates = [
        ActivityUpdate(
            t.end_user_id,
            t.action == ACTIVE_ACTION,
            t.code if t.action == INACTIVE_ACTION else None,
            now if t.action == INACTIVE_ACTION else None,
            t.before.active,
            t.before.reason,
        )
        for t in transitions
        if t is not None and t.action != SKIP_ACTION and t.end_user_id > 0
    ]
    await set_activity(db, updates, now)
