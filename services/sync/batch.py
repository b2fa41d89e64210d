"""One page of Entra users planned against the scope index and applied in one transaction."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from entra.types import EntraUser, RemovedUser
from models import ChangeAction, SyncRun
from services.errors import DomainError
from services.sync.config import SyncConfig
from services.sync.fields import OPTIONAL_FIELDS
from services.sync.guard import MassChangeCount
from services.sync.lifecycle import Transition
from services.sync.lifecycle_run import LifecycleRun, counts_of, row_of, write_transitions
from services.sync.planner import Decision, DecisionKind, plan_user, stored_user_after
from services.sync.progress import RunProgress
from services.sync.reasons import SkipReason
from services.sync.review import ReviewBook
from services.sync.review_store import (
    Queued,
    ReviewWrites,
    apply_writes,
    commit_writes,
    writes_of,
)
from services.sync.rules import Fields, email_key, entra_email
from services.sync.scope import match_keys
from services.sync.snapshot import ScopeIndex, StoredUser
from services.sync.writer import (
    MAX_LOG_DISPLAY_NAME,
    MAX_LOG_EMAIL,
    MAX_LOG_OBJECT_ID,
    MAX_LOG_REASON,
    ChangeRow,
    NewUser,
    UserUpdate,
    insert_changes,
    insert_users,
    loggable,
    storable_link,
    trim_notes,
    update_users,
)

log = logging.getLogger("entrasync.sync")

# Loads the stored users a batch can match (its Entra ids and email keys), for delta rounds.
Touched = Callable[[Sequence[EntraUser], Sequence[RemovedUser]], Awaitable[list[StoredUser]]]

# A batch that clashes with rows written behind the run's back (a product user created meanwhile
# with the same email) is planned again against a fresh index; a clash that persists is a bug.
MAX_ATTEMPTS = 3
# The change-log rows a run paused by the mass-change guard keeps of what it would do.
MAX_PLANNED_LOG = 10_000


class BatchWriteFailed(DomainError):
    """A batch could not be saved; its transaction was rolled back, earlier batches are kept."""


class SeenKeys(set[str]):
    """The run's planned email keys (the planner's `seen_keys`), each with the Entra user that
    took it, able to forget one page's keys.

    A key taken by the user being planned (`planning`) is not a duplicate: a delta round may
    send the same user twice (a replay). A page that is planned again must not find its own
    first attempt's keys as duplicates either.
    """

    def __init__(self) -> None:
        super().__init__()
        self._owner: dict[str, str] = {}
        self._page: list[str] = []
        self.planning = ""

    def __contains__(self, key: object) -> bool:
        owner = self._owner.get(key) if isinstance(key, str) else None
        return owner is not None and owner != self.planning

    def add(self, key: str) -> None:
        if key not in self._owner:
            self._owner[key] = self.planning
            self._page.append(key)
            super().add(key)

    def start_page(self) -> None:
        self._page.clear()

    def undo_page(self) -> None:
        for key in self._page:
            del self._owner[key]
        self.difference_update(self._page)
        self._page.clear()


@dataclass(slots=True)
class _Planned:
    user: EntraUser
    decision: Decision
    created: StoredUser | None  # the index entry of a CREATE; its id turns real once inserted
    # The lifecycle policy's outcome for this user (issue 6), if any.
    transition: Transition | None = None


def counter_for(decision: Decision) -> str:
    """The run counter (R1) a decision adds to."""
    kind = decision.kind
    if kind is DecisionKind.CREATE:
        return "created"
    if kind is DecisionKind.UPDATE:
        return "updated"
    if kind is DecisionKind.UNCHANGED:
        return "unchanged"
    reason = decision.reason
    if reason is not None and (reason.is_filter or reason is SkipReason.REVIEW_IGNORED):
        return "skipped_filter"
    if reason is SkipReason.UNMAPPED:
        return "skipped_unmapped"
    if reason is SkipReason.PINNED_EXCLUDE:
        return "skipped_filter"  # an admin's filter on one user, not bad data
    return "errors"


class BatchApplier:
    """Plans batches against the run's index and writes each as one transaction (R7: dry runs log only).

    Per batch, a fixed handful of statements whatever its size: UPDATE end users (executemany),
    INSERT end users (SQLite: executemany and one SELECT of their ids; PostgreSQL: one INSERT
    from arrays RETURNING them), INSERT change-log rows (executemany), and the run's counters
    (UPDATE, and the cancel flag's SELECT). Unchanged users write nothing (S10).

    A full round plans every batch against one index of the whole scope, loaded once
    (`reload_index` loads it again when a batch clashes). With `touched` (delta rounds, R9) the
    index is built before each batch from just the stored users that batch can match, which
    `touched` loads; a dry run lays what its earlier batches would have written over them, so
    that it plans what the real run would.

    With `count`, every batch applied (or planned) tells it which imported users the run
    affects (the mass-change guard). With `plan_only`, batches are planned as a dry run would
    and nothing at all is written: `planned_counts` adds up the counters the run would get.

    With `reviews` (the review_conflicts policy), ambiguous matches are REVIEW decisions: each
    batch upserts their review items in its transaction (a dry run only counts them) and keeps
    `run.review_waiting` at the number of items waiting.
    """

    def __init__(
        self,
        run: SyncRun,
        config: SyncConfig,
        index: ScopeIndex,
        group_member_ids: frozenset[str] | None,
        progress: RunProgress,
        reload_index: Callable[[], Awaitable[ScopeIndex]],
        *,
        touched: Touched | None = None,
        count: MassChangeCount | None = None,
        plan_only: bool = False,
        lifecycle: LifecycleRun | None = None,
        reviews: ReviewBook | None = None,
    ) -> None:
        self._run = run
        self._config = config
        self.index = index
        self._members = group_member_ids
        self._progress = progress
        self._reload = reload_index
        self._touched = touched
        self._seen = SeenKeys()
        self._next_provisional = 0
        # This page's creations by provisional id: decisions planned after them may name them.
        self._provisional: dict[int, StoredUser] = {}
        # With `touched`, a dry run's creations and updates by id: the rows it would have left.
        self._dry_rows: dict[int, StoredUser] = {}
        self._done = 0  # Entra users already applied, for messages
        # With `touched`: the Entra ids this run planned or logged (the W4 look-ups skip them).
        self.seen_ids: set[str] = set()
        self._count = count
        self._plan_only = plan_only
        self._lifecycle = lifecycle
        self._reviews = reviews
        self.planned_counts: dict[str, int] = {}
        # With `plan_only`: the change log the writes would add, its first MAX_PLANNED_LOG rows
        # (a run the mass-change guard pauses keeps them, so an admin sees who would change).
        self.planned_log: list[ChangeRow] = []
        self.planned_log_cut = False
        # With `plan_only`: each user of the batch last planned, and whether applying it writes
        # or logs anything (not an UNCHANGED decision, or a lifecycle transition).
        self.last_plan: list[tuple[EntraUser, bool]] = []
        # The round's delta link, once its last chunk is applied (set by the engine).
        self.link: str | None = None

    async def apply(self, page: Sequence[EntraUser], removed: Sequence[RemovedUser] = ()) -> None:
        """Plan and write one batch: users to create/update/skip, and `@removed` entries, which
        are logged and never applied (S5). Raises BatchWriteFailed when it cannot be saved."""
        users = _last_of_each(page)
        for attempt in range(1, MAX_ATTEMPTS + 1):
            self._seen.start_page()
            if self._touched is not None:
                try:
                    self.index = await self._index_of(self._touched, users, removed)
                except Exception as exc:
                    raise self._failure(page, exc) from exc
            planned = self._plan(users)
            gone = await self._plan_lifecycle(planned, removed)
            if self._plan_only:
                for name, n in _counts(planned, removed, len(page), gone).items():
                    self.planned_counts[name] = self.planned_counts.get(name, 0) + n
                self._keep_planned_log(planned, removed, gone)
                self.last_plan = [
                    (
                        p.user,
                        p.decision.kind is not DecisionKind.UNCHANGED or p.transition is not None,
                    )
                    for p in planned
                ]
                self._after(page, users, removed, planned)
                return
            try:
                await self._write(planned, removed, len(page), gone)
            except IntegrityError as exc:
                self._seen.undo_page()
                if attempt == MAX_ATTEMPTS:
                    raise self._failure(page, exc) from exc
                log.warning(
                    "sync run %s: batch clashed with concurrent writes (%s); planning it again",
                    self._run.id,
                    exc,
                )
                if self._touched is None:
                    self.index = await self._reload()
            except Exception as exc:
                raise self._failure(page, exc) from exc
            else:
                self._after(page, users, removed, planned)
                return

    def _after(
        self,
        page: Sequence[EntraUser],
        users: list[EntraUser],
        removed: Sequence[RemovedUser],
        planned: list[_Planned],
    ) -> None:
        """A batch applied (or planned only): what later batches and the guard must know."""
        self._done += len(page)
        if self._touched is not None:
            self.seen_ids.update(user.id for user in users)
            self.seen_ids.update(r.id for r in removed)
            if self._run.dry_run or self._plan_only:
                self._keep_dry_rows(planned)
        if self._count is not None:
            tenant_id = self._config.tenant_id
            for item in planned:
                held = self.index.linked(tenant_id, item.user.id)
                d = item.decision
                self._count.saw(
                    item.user.id,
                    linked=held is not None and held.id > 0,
                    # A deactivation changes the user; a pin EXCLUDE leaves it as it is.
                    unchanged=(
                        d.kind is DecisionKind.UNCHANGED or d.reason is SkipReason.PINNED_EXCLUDE
                    )
                    and (item.transition is None or item.transition.action == "SKIP"),
                )
            for r in removed:
                held = self.index.linked(tenant_id, r.id)
                self._count.saw(r.id, linked=held is not None and held.id > 0, unchanged=False)

    async def _index_of(
        self, touched: Touched, users: list[EntraUser], removed: Sequence[RemovedUser]
    ) -> ScopeIndex:
        stored = await touched(users, removed)
        if not self._dry_rows:
            return ScopeIndex.from_users(stored)
        ids = {user.id for user in users} | {r.id for r in removed}
        keys = match_keys(users, self._config.match_attribute)
        laid = [
            row
            for row in self._dry_rows.values()
            if row.entra_object_id in ids or row.email_key in keys
        ]
        index = ScopeIndex.from_users(
            [row for row in stored if row.id not in self._dry_rows]
            + [row for row in laid if row.id > 0]
        )
        for row in laid:
            if row.id < 0:  # a creation: never outranks a stored link, as in `_plan`
                index.add(row)
        return index

    def _keep_dry_rows(self, planned: list[_Planned]) -> None:
        for item in planned:
            if item.created is not None:
                self._dry_rows[item.created.id] = item.created
            elif item.decision.kind is DecisionKind.UPDATE:
                after = stored_user_after(item.decision)
                self._dry_rows[after.id] = after

    def _failure(self, page: Sequence[EntraUser], exc: Exception) -> BatchWriteFailed:
        log.error("sync run %s: batch write failed", self._run.id, exc_info=exc)
        first, last = self._done + 1, self._done + len(page)
        detail = loggable(str(exc), 300) or type(exc).__name__
        return BatchWriteFailed(
            f"could not save Entra users {first}-{last}: {detail}; that batch was rolled back, "
            "earlier batches are kept and the next run completes the import"
        )

    async def _plan_lifecycle(
        self, planned: list[_Planned], removed: Sequence[RemovedUser]
    ) -> list[Transition]:
        """The lifecycle policy's transitions of this batch, set on `planned`; returns those of
        its `@removed` entries."""
        if self._lifecycle is None or not self._lifecycle.marks:
            return []
        items = [(p.user, p.decision, None if p.created is None else p.created.id) for p in planned]
        transitions, gone = await self._lifecycle.plan(items, removed, self.index)
        for item, transition in zip(planned, transitions, strict=True):
            item.transition = transition
        return gone

    def _plan(self, page: Sequence[EntraUser]) -> list[_Planned]:
        planned: list[_Planned] = []
        self._provisional.clear()
        lifecycle = self._lifecycle
        for user in page:
            self._seen.planning = user.id
            decision = plan_user(
                user, self._config, self.index, self._members, self._seen, self._reviews
            )
            if lifecycle is not None:
                decision = lifecycle.screen(decision)
            created = None
            if decision.kind is DecisionKind.CREATE:
                # A provisional (negative) id until the insert; later users must see this one.
                self._next_provisional -= 1
                created = stored_user_after(decision, user_id=self._next_provisional)
                self.index.add(created)
                self._provisional[created.id] = created
            planned.append(_Planned(user, decision, created))
        return planned

    async def _write(
        self,
        planned: list[_Planned],
        removed: Sequence[RemovedUser],
        fetched: int,
        gone: Sequence[Transition] = (),
    ) -> None:
        counts = _counts(planned, removed, fetched, gone)
        news = [p for p in planned if p.created is not None]
        updates = [p for p in planned if p.decision.kind is DecisionKind.UPDATE]
        now = datetime.now(UTC)
        run = self._run
        added = False
        reviews = self._review_writes(planned)
        waiting = run.review_waiting
        inserted: dict[str, int] = {}
        try:
            async with in_transaction() as db:
                if not run.dry_run:
                    # Updates first: a rename frees nothing a creation of this batch could take
                    # (the planner never re-indexes renames within a run), so order is safe.
                    await update_users(db, [_update_of(p.decision) for p in updates], now)
                    ids = await insert_users(db, run.account_id, [_new_of(p) for p in news], now)
                    for p in news:
                        assert p.created is not None
                        p.created.id = ids[(p.created.site_id, p.created.email_key)]
                        if p.transition is not None:
                            p.transition.end_user_id = p.created.id
                    if self._lifecycle is not None:
                        await write_transitions(db, [*(p.transition for p in planned), *gone])
                rows = self._log_rows(planned, removed, gone)
                await insert_changes(db, run.id, run.account_id, rows)
                if reviews and self._reviews is not None:
                    if not run.dry_run:
                        inserted = await apply_writes(db, run, self._reviews, reviews)
                    run.review_waiting = reviews.waiting_after(self._reviews)
                self._progress.add(**counts)
                added = True
                await self._progress.save()
        except BaseException:
            run.review_waiting = waiting
            if added:
                self._progress.add(**{name: -n for name, n in counts.items()})
            raise
        if self._lifecycle is not None:
            self._lifecycle.commit([*(p.transition for p in planned), *gone])
        if reviews and self._reviews is not None:
            commit_writes(self._reviews, reviews, inserted)

    def _log_rows(
        self, planned: list[_Planned], removed: Sequence[RemovedUser], gone: Sequence[Transition]
    ) -> list[ChangeRow]:
        """The batch's change-log rows (R8): decisions, `@removed` entries, lifecycle steps."""
        rows = [row for p in planned if (row := self._change_row(p)) is not None]
        rows.extend(self._removed_row(r) for r in removed)
        rows.extend(row_of(p.transition) for p in planned if p.transition is not None)
        rows.extend(row_of(t) for t in gone)
        return rows

    def _keep_planned_log(
        self, planned: list[_Planned], removed: Sequence[RemovedUser], gone: Sequence[Transition]
    ) -> None:
        room = MAX_PLANNED_LOG - len(self.planned_log)
        if room <= 0:
            self.planned_log_cut = self.planned_log_cut or bool(planned or removed or gone)
            return
        rows = self._log_rows(planned, removed, gone)
        if len(rows) > room:
            rows, self.planned_log_cut = rows[:room], True
        # A user the check would create has no id yet (a provisional, negative one).
        self.planned_log.extend(
            row._replace(end_user_id=None)
            if row.end_user_id is not None and row.end_user_id <= 0
            else row
            for row in rows
        )

    def _review_writes(self, planned: list[_Planned]) -> ReviewWrites | None:
        """The review queue changes of a batch (none without the review_conflicts policy)."""
        if self._reviews is None:
            return None
        queued = [
            Queued(p.user.id, p.decision.email or "", p.user.display_name or "", p.decision.review)
            for p in planned
            if p.decision.review is not None
        ]
        others = [p.user.id for p in planned if p.decision.review is None]
        return writes_of(self._reviews, queued, others)

    def _removed_row(self, removed: RemovedUser) -> ChangeRow:
        """R9: Entra deleted this user (`changed`: soft, restorable; `deleted`: hard). The log
        names the end user linked to it, which the sync leaves as it is (S5)."""
        held = self.index.linked(self._config.tenant_id, removed.id)
        return ChangeRow(
            action=ChangeAction.REMOVED.value,
            entra_object_id=loggable(removed.id, MAX_LOG_OBJECT_ID),
            email="" if held is None else loggable(held.email, MAX_LOG_EMAIL),
            display_name="",
            end_user_id=held.id if held is not None and held.id > 0 else None,
            site_id=None if held is None else held.site_id,
            reason=loggable(removed.reason, MAX_LOG_REASON),
            changes={},
        )

    def _change_row(self, item: _Planned) -> ChangeRow | None:
        d, user = item.decision, item.user
        if d.kind is DecisionKind.UNCHANGED:
            return None
        changes: Mapping[str, Sequence[str]] = {}
        if d.kind is DecisionKind.SKIP:
            assert d.reason is not None
            reason = d.reason.value
        elif d.review is not None:
            reason = d.review.kind
            changes = {"candidates": [str(i) for i in d.review.candidate_ids()]}
        else:
            reason, notes = trim_notes(d.trims)
            changes = d.changes  # (old, new) pairs, written as JSON lists
            if notes:
                changes = {**d.changes, "trims": notes}
        end_user_id = d.existing_id
        if item.created is not None:
            end_user_id = item.created.id
        elif end_user_id is not None and end_user_id < 0:
            known = self._provisional.get(end_user_id)
            end_user_id = None if known is None else known.id
        email = d.email or entra_email(user, self._config.match_attribute)
        return ChangeRow(
            action=d.kind.value,
            entra_object_id=loggable(user.id, MAX_LOG_OBJECT_ID),
            email=loggable(email or user.user_principal_name or user.mail, MAX_LOG_EMAIL),
            display_name=loggable(user.display_name, MAX_LOG_DISPLAY_NAME),
            end_user_id=end_user_id if end_user_id is not None and end_user_id > 0 else None,
            site_id=d.site_id,
            reason=reason,
            changes=changes,
        )


def _counts(
    planned: list[_Planned],
    removed: Sequence[RemovedUser],
    fetched: int,
    gone: Sequence[Transition] = (),
) -> dict[str, int]:
    """The run counters (R1) one batch adds to."""
    counts = {"fetched": fetched}
    for item in planned:
        if item.decision.kind is DecisionKind.REVIEW:
            continue  # not a counter of its own: the run reports the items waiting instead
        name = counter_for(item.decision)
        counts[name] = counts.get(name, 0) + 1
    if removed:
        counts["removed"] = len(removed)
    counts.update(counts_of([*(p.transition for p in planned), *gone]))
    return counts


def _last_of_each(page: Sequence[EntraUser]) -> list[EntraUser]:
    """A user sent twice (a delta replay) is planned once, with its last representation, where
    it first appeared. Users without an id are all kept (each is skipped as INVALID_ID)."""
    users: list[EntraUser] = []
    at: dict[str, int] = {}
    for user in page:
        where = at.get(user.id) if user.id else None
        if where is None:
            if user.id:
                at[user.id] = len(users)
            users.append(user)
        else:
            users[where] = user
    return users


def _new_of(item: _Planned) -> NewUser:
    d = item.decision
    assert d.site_id is not None and d.email is not None
    assert d.fields is not None and d.link is not None
    return NewUser(d.site_id, d.email, email_key(d.email), d.fields, storable_link(d.link), d.extra)


def _update_of(d: Decision) -> UserUpdate:
    assert d.existing_id is not None and d.link is not None
    email = d.changes["email"][1] if "email" in d.changes else None
    fields = tuple(d.changes[name][1] if name in d.changes else None for name in Fields._fields)
    extra = None
    if d.extra is not None:  # issue 6: optional fields a field rule syncs
        extra = tuple(d.changes[name][1] if name in d.changes else None for name in OPTIONAL_FIELDS)
    return UserUpdate(
        d.existing_id,
        email,
        None if email is None else email_key(email),
        fields,
        storable_link(d.link),
        extra,
    )
