"""One page of Entra users planned against the scope index and applied in one transaction."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from entra.types import EntraUser
from models import SyncRun
from services.errors import DomainError
from services.sync.config import SyncConfig
from services.sync.planner import Decision, DecisionKind, plan_user, stored_user_after
from services.sync.progress import RunProgress
from services.sync.reasons import SkipReason
from services.sync.rules import Fields, email_key, entra_email
from services.sync.snapshot import ScopeIndex, StoredUser
from services.sync.writer import (
    MAX_LOG_DISPLAY_NAME,
    MAX_LOG_EMAIL,
    MAX_LOG_OBJECT_ID,
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

# A batch that clashes with rows written behind the run's back (a product user created meanwhile
# with the same email) is planned again against a fresh index; a clash that persists is a bug.
MAX_ATTEMPTS = 3


class BatchWriteFailed(DomainError):
    """A batch could not be saved; its transaction was rolled back, earlier batches are kept."""


class SeenKeys(set[str]):
    """The run's planned email keys (the planner's `seen_keys`), able to forget one page's keys.

    A page that is planned again must not find its own first attempt's keys as duplicates.
    """

    def __init__(self) -> None:
        super().__init__()
        self._page: list[str] = []

    def add(self, key: str) -> None:
        if key not in self:
            self._page.append(key)
            super().add(key)

    def start_page(self) -> None:
        self._page.clear()

    def undo_page(self) -> None:
        self.difference_update(self._page)
        self._page.clear()


@dataclass(slots=True)
class _Planned:
    user: EntraUser
    decision: Decision
    created: StoredUser | None  # the index entry of a CREATE; its id turns real once inserted


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
    if reason is not None and reason.is_filter:
        return "skipped_filter"
    if reason is SkipReason.UNMAPPED:
        return "skipped_unmapped"
    return "errors"


class BatchApplier:
    """Plans pages against the run's index and writes each as one transaction (R7: dry runs log only).

    Per batch, a fixed handful of statements whatever its size: UPDATE end users (executemany),
    INSERT end users (SQLite: executemany and one SELECT of their ids; PostgreSQL: one INSERT
    from arrays RETURNING them), INSERT change-log rows (executemany), and the run's counters
    (UPDATE, and the cancel flag's SELECT). Unchanged users write nothing (S10).
    """

    def __init__(
        self,
        run: SyncRun,
        config: SyncConfig,
        index: ScopeIndex,
        group_member_ids: frozenset[str] | None,
        progress: RunProgress,
        reload_index: Callable[[], Awaitable[ScopeIndex]],
    ) -> None:
        self._run = run
        self._config = config
        self.index = index
        self._members = group_member_ids
        self._progress = progress
        self._reload = reload_index
        self._seen = SeenKeys()
        self._next_provisional = 0
        # This page's creations by provisional id: decisions planned after them may name them.
        self._provisional: dict[int, StoredUser] = {}
        self._done = 0  # Entra users already applied, for messages

    async def apply(self, page: Sequence[EntraUser]) -> None:
        """Plan and write one page. Raises BatchWriteFailed when it cannot be saved."""
        for attempt in range(1, MAX_ATTEMPTS + 1):
            self._seen.start_page()
            planned = self._plan(page)
            try:
                await self._write(planned, len(page))
            except IntegrityError as exc:
                self._seen.undo_page()
                if attempt == MAX_ATTEMPTS:
                    raise self._failure(page, exc) from exc
                log.warning(
                    "sync run %s: batch clashed with concurrent writes (%s); planning it again",
                    self._run.id,
                    exc,
                )
                self.index = await self._reload()
            except Exception as exc:
                raise self._failure(page, exc) from exc
            else:
                self._done += len(page)
                return

    def _failure(self, page: Sequence[EntraUser], exc: Exception) -> BatchWriteFailed:
        log.error("sync run %s: batch write failed", self._run.id, exc_info=exc)
        first, last = self._done + 1, self._done + len(page)
        detail = loggable(str(exc), 300) or type(exc).__name__
        return BatchWriteFailed(
            f"could not save Entra users {first}-{last}: {detail}; that batch was rolled back, "
            "earlier batches are kept and the next run completes the import"
        )

    def _plan(self, page: Sequence[EntraUser]) -> list[_Planned]:
        planned: list[_Planned] = []
        self._provisional.clear()
        for user in page:
            decision = plan_user(user, self._config, self.index, self._members, self._seen)
            created = None
            if decision.kind is DecisionKind.CREATE:
                # A provisional (negative) id until the insert; later users must see this one.
                self._next_provisional -= 1
                created = stored_user_after(decision, user_id=self._next_provisional)
                self.index.add(created)
                self._provisional[created.id] = created
            planned.append(_Planned(user, decision, created))
        return planned

    async def _write(self, planned: list[_Planned], fetched: int) -> None:
        counts = {"fetched": fetched}
        for item in planned:
            name = counter_for(item.decision)
            counts[name] = counts.get(name, 0) + 1
        news = [p for p in planned if p.created is not None]
        updates = [p for p in planned if p.decision.kind is DecisionKind.UPDATE]
        now = datetime.now(UTC)
        run = self._run
        added = False
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
                rows = [row for p in planned if (row := self._change_row(p)) is not None]
                await insert_changes(db, run.id, run.account_id, rows)
                self._progress.add(**counts)
                added = True
                await self._progress.save()
        except BaseException:
            if added:
                self._progress.add(**{name: -n for name, n in counts.items()})
            raise

    def _change_row(self, item: _Planned) -> ChangeRow | None:
        d, user = item.decision, item.user
        if d.kind is DecisionKind.UNCHANGED:
            return None
        changes: dict[str, list[str]] = {}
        if d.kind is DecisionKind.SKIP:
            assert d.reason is not None
            reason = d.reason.value
        else:
            reason, notes = trim_notes(d.trims)
            changes = {name: [old, new] for name, (old, new) in d.changes.items()}
            if notes:
                changes["trims"] = notes
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


def _new_of(item: _Planned) -> NewUser:
    d = item.decision
    assert d.site_id is not None and d.email is not None
    assert d.fields is not None and d.link is not None
    return NewUser(d.site_id, d.email, email_key(d.email), d.fields, storable_link(d.link))


def _update_of(d: Decision) -> UserUpdate:
    assert d.existing_id is not None and d.link is not None
    email = d.changes["email"][1] if "email" in d.changes else None
    fields = tuple(d.changes[name][1] if name in d.changes else None for name in Fields._fields)
    return UserUpdate(
        d.existing_id,
        email,
        None if email is None else email_key(email),
        fields,
        storable_link(d.link),
    )
