"""The review queue in the database, for the engine: loaded once per run, written per batch."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import cast

from tortoise.backends.base.client import BaseDBAsyncClient

from models import ReviewItem, ReviewKind, ReviewStatus, SyncRun, TenantConnection
from services.sync.review import HeldItem, ResolutionName, ReviewBook, ReviewCase
from services.sync.writer import MAX_LOG_DISPLAY_NAME, MAX_LOG_EMAIL, loggable


async def load_book(conn: TenantConnection) -> ReviewBook:
    """Every review item of the connection (open ones and resolutions), in one query."""
    rows = await ReviewItem.filter(connection_id=conn.id).values_list(
        "id", "entra_object_id", "status", "resolution", "resolved_at"
    )
    book = ReviewBook()
    for item_id, object_id, status, resolution, resolved_at in rows:
        book.items[str(object_id)] = HeldItem(
            int(item_id),
            open=status == ReviewStatus.OPEN.value,
            resolution=cast(ResolutionName | None, str(resolution) if resolution else None),
            resolved_at=resolved_at,
        )
    return book


async def waiting_count(connection_id: int) -> int:
    """The connection's open review items (SyncRun.review_waiting at the end of a run)."""
    return await ReviewItem.filter(connection_id=connection_id, status=ReviewStatus.OPEN).count()


@dataclass(frozen=True, slots=True)
class Queued:
    """One Entra user a batch sent to review."""

    object_id: str
    email: str
    display_name: str
    case: ReviewCase


@dataclass(slots=True)
class ReviewWrites:
    """What one batch changes in the queue: cases met (new, still open, or reopened because a
    LINK no longer holds) and open items whose Entra user no longer is a case (removed)."""

    queued: list[Queued] = field(default_factory=list)
    settled: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.queued or self.settled)

    def waiting_after(self, book: ReviewBook) -> int:
        """The number of open items once these writes are applied to `book`."""
        waiting = book.waiting
        for q in self.queued:
            held = book.items.get(q.object_id)
            if held is None or not held.open:
                waiting += 1
        return waiting - len(self.settled)


def writes_of(
    book: ReviewBook, reviewed: Sequence[Queued], planned_ids: Sequence[str]
) -> ReviewWrites:
    """The queue changes of a batch: `reviewed` are its REVIEW decisions, `planned_ids` the
    Entra ids of its other decisions (an open item of one of those is no longer a case)."""
    writes = ReviewWrites(queued=list(reviewed))
    for object_id in planned_ids:
        held = book.items.get(object_id)
        if held is not None and held.open:
            writes.settled.append(object_id)
    return writes


async def apply_writes(
    db: BaseDBAsyncClient, run: SyncRun, book: ReviewBook, writes: ReviewWrites
) -> dict[str, int]:
    """Write a batch's queue changes in its transaction; returns the ids of inserted items.

    Updates are conditional on what the run loaded, so an admin's resolution made meanwhile is
    never overwritten: an open item is refreshed only while open, a LINK reopened only while
    still resolved so, an item removed only while open.
    """
    inserted: dict[str, int] = {}
    fresh: list[ReviewItem] = []
    for q in writes.queued:
        values = {
            "kind": ReviewKind(q.case.kind),
            "email": loggable(q.email, MAX_LOG_EMAIL),
            "display_name": loggable(q.display_name, MAX_LOG_DISPLAY_NAME),
            "candidate_ids": q.case.candidate_ids(),
            "routed_site_id": q.case.routed_site_id,
            "last_run_id": run.id,
        }
        held = book.items.get(q.object_id)
        if held is None or held.id is None:
            fresh.append(
                ReviewItem(
                    account_id=run.account_id,
                    connection_id=run.connection_id,
                    entra_object_id=q.object_id,
                    first_run_id=run.id,
                    status=ReviewStatus.OPEN,
                    **values,
                )
            )
        elif held.open:
            await (
                ReviewItem.filter(id=held.id, status=ReviewStatus.OPEN)
                .using_db(db)
                .update(**values)
            )
        else:
            await (
                ReviewItem.filter(id=held.id, status=ReviewStatus.RESOLVED)
                .using_db(db)
                .update(
                    **values,
                    status=ReviewStatus.OPEN,
                    resolution=None,
                    resolved_end_user_id=None,
                    resolved_by=None,
                    resolved_at=None,
                )
            )
    if fresh:
        await ReviewItem.bulk_create(fresh, using_db=db)
        ids = await (
            ReviewItem.filter(
                connection_id=run.connection_id,
                entra_object_id__in=[item.entra_object_id for item in fresh],
            )
            .using_db(db)
            .values_list("entra_object_id", "id")
        )
        inserted = {str(object_id): int(item_id) for object_id, item_id in ids}
    settled = [held.id for o in writes.settled if (held := book.items[o]).id is not None]
    if settled:
        await ReviewItem.filter(id__in=settled, status=ReviewStatus.OPEN).using_db(db).delete()
    return inserted


def commit_writes(book: ReviewBook, writes: ReviewWrites, inserted: dict[str, int]) -> None:
    """Record a batch's queue changes in the run's book once they are written (or, in a dry
    run, planned): later batches and the waiting count see them."""
    for q in writes.queued:
        held = book.items.get(q.object_id)
        if held is None:
            book.items[q.object_id] = HeldItem(inserted.get(q.object_id), open=True)
        else:
            held.open, held.resolution, held.resolved_at = True, None, None
    for object_id in writes.settled:
        book.items.pop(object_id, None)
