"""The sync engine's I/O: stream Graph pages, plan them against the scope, write them in batches."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tortoise.transactions import in_transaction

from entra.errors import DeltaTokenExpired, EntraError
from entra.graph import GraphClient
from entra.types import EntraUser, RemovedUser
from models import EndUser, SyncMode, SyncRun, TenantConnection
from services.connections import graph_for
from services.errors import DomainError
from services.runtime import Runtime
from services.sync import guard
from services.sync.batch import BatchApplier
from services.sync.config import SyncConfig
from services.sync.delta import (
    EXPIRED_REASON,
    Chunk,
    RoundChoice,
    choose_round,
    delta_round,
    forget_link,
    full_round,
    ids_to_look_up,
    keep_link,
    syncs_manager,
    user_select,
    users_by_id,
)
from services.sync.delta import _last_round_start as last_round_start
from services.sync.guard import GuardTripped, MassChangeCount
from services.sync.lifecycle_run import LifecycleRun
from services.sync.managers import ManagerResolver, resolve_managers
from services.sync.progress import RunProgress
from services.sync.review import ReviewBook
from services.sync.review_store import load_book, waiting_count
from services.sync.runs import RunCancelled
from services.sync.scope import imported_count, load_index, load_touched, match_keys
from services.sync.snapshot import ScopeIndex, StoredUser
from services.sync.writer import insert_changes
from services.wizard import sync_config

log = logging.getLogger("entrasync.sync")

# Batches fetched ahead of the writer: enough to keep Graph busy while the scope loads and groups
# resolve (about a second per 100k users) and while a batch is written, yet a few MB at most
# (under 1 KB per parsed user) whatever the tenant's size.
PAGES_AHEAD = 8
# R6 calls a run dead after runs.STALE_AFTER without a heartbeat; a page may spend longer than that
# in Graph's retries (RetryPolicy.total_budget), so the heartbeat does not wait for batches.
HEARTBEAT_EVERY = 30.0
# Groups whose transitive members are listed at once for ALL_GROUPS (SELECTED uses Graph's 4).
GROUP_CONCURRENCY = 8
# A guarded round's users kept in memory between its check and its writes (under 1 KB each):
# a delta round's, or those a full round writes; beyond, the round is fetched again.
REPLAY_USERS = 50_000
# A run that created this many end users refreshes the table's statistics (PostgreSQL).
ANALYZE_AFTER_CREATED = 1000

PREVIEW_REASON = "a preview of proposed sync policies reads every user"

__all__ = ["ConfigurationUnusable", "execute_run", "load_index"]


class ConfigurationUnusable(DomainError):
    """The saved configuration is incomplete or contradictory (SyncConfig refused it)."""


@dataclass(frozen=True, slots=True)
class _Failed:
    error: BaseException


_Item = Chunk | _Failed | None


async def execute_run(
    rt: Runtime, run: SyncRun, conn: TenantConnection, progress: RunProgress
) -> None:
    """Run one import/sync of `conn` into the product (S1-S11, W1-W6, R7-R9).

    The run makes a FULL round (every user, from `/users`) or a DELTA round (what changed in
    Entra since the last round, from `/users/delta`), as `delta.choose_round` decides; a delta
    token Graph no longer honours turns it into a full round within the run. Batches are fetched
    by a producer task while the previous one is planned and written, each batch in one
    transaction with its change log and the run's counters; a dry run (R7) writes only the
    change log and counters. `last_synced_at` moves only on users created or updated: an
    unchanged user is not written at all (S10). The round's delta link is stored only once all
    of its batches are committed, and never by a dry run.

    Raises RunCancelled between batches when a cancel was asked; BatchWriteFailed when a batch
    cannot be saved (rolled back whole); ReauthNeeded, ConsentNeeded and MicrosoftUnavailable
    (through graph_for) when Graph fails beyond its retries; ConfigurationUnusable for a
    configuration the planner refuses (a half-saved one).
    """
    await progress.phase("loading")
    try:
        config = await sync_config(conn, run.proposed_policies)
    except ValueError as exc:
        raise ConfigurationUnusable(
            f"the saved import configuration cannot be applied ({exc}); configure the import again"
        ) from exc
    choice = choose_round(conn, datetime.now(UTC), rt.full_sync_every)
    if run.proposed_policies is not None and choice.mode is SyncMode.DELTA:
        # A preview must show every user the proposed policies change, not just those Entra did.
        choice = RoundChoice(SyncMode.FULL, PREVIEW_REASON)
    # The review queue (issue 6): loaded once per run, off the hot path when the policy is off.
    reviews = await _load_reviews(run, conn, config)
    async with graph_for(rt, conn) as graph:
        members = _Members(graph, config, progress)
        if choice.mode is SyncMode.DELTA:
            try:
                await _round(rt, run, conn, config, graph, progress, choice, members, reviews)
                await _count_waiting(run, conn, reviews)
                return
            except DeltaTokenExpired as exc:
                log.info("sync run %s: %s (%s)", run.id, EXPIRED_REASON, exc)
                if not run.dry_run:
                    await forget_link(conn)
                choice = RoundChoice(SyncMode.FULL, EXPIRED_REASON)
        await _round(rt, run, conn, config, graph, progress, choice, members, reviews)
        await _count_waiting(run, conn, reviews)


async def _load_reviews(
    run: SyncRun, conn: TenantConnection, config: SyncConfig
) -> ReviewBook | None:
    """The connection's review items when its review_conflicts policy is on, else None."""
    if not config.policies.review_conflicts:
        return None
    reviews = await load_book(conn)
    run.review_waiting = reviews.waiting
    await run.save(update_fields=["review_waiting"])
    return reviews


async def _count_waiting(run: SyncRun, conn: TenantConnection, reviews: ReviewBook | None) -> None:
    """The items waiting once the run is done: counted in the table after a real run (an
    admin may have resolved some meanwhile); a dry run keeps what its batches counted."""
    if reviews is None or run.dry_run:
        return
    run.review_waiting = await waiting_count(conn.id)
    await run.save(update_fields=["review_waiting"])


async def _round(
    rt: Runtime,
    run: SyncRun,
    conn: TenantConnection,
    config: SyncConfig,
    graph: GraphClient,
    progress: RunProgress,
    choice: RoundChoice,
    members: _Members,
    reviews: ReviewBook | None = None,
) -> None:
    full = choice.mode is SyncMode.FULL
    started = datetime.now(UTC)
    run.mode, run.mode_reason = choice.mode, choice.reason
    await run.save(update_fields=["mode", "mode_reason"])
    log.info("sync run %s: %s round (%s)", run.id, choice.mode.value, choice.reason)
    chunks: asyncio.Queue[_Item] = asyncio.Queue(maxsize=PAGES_AHEAD)
    # Fetching starts at once: loading the scope and resolving groups overlap the first pages.
    tasks: list[asyncio.Task[Any]] = [
        _start_pages(run, _source(rt, graph, choice, config, conn), chunks),
        asyncio.create_task(_heartbeat(run), name=f"sync-run-{run.id}-heartbeat"),
    ]
    counting = None
    if full:
        counting = asyncio.create_task(_count(graph), name=f"sync-run-{run.id}-count")
        tasks.append(counting)
    # Issue 6: the lifecycle policy and the pins (a no-op with KEEP and no pinned user).
    lifecycle = LifecycleRun(conn, config, graph.mailbox_purposes)
    # Issue 6: the optional fields are loaded only when a field rule syncs one.
    extra = bool(config.field_plan.extras)
    try:
        touched = None
        if full:
            index = await load_index(conn, extra=extra)
            await lifecycle.load_scope()
        else:
            # A delta round touches few users: each batch loads just the rows it can match.
            index = ScopeIndex()

            async def touched(
                users: Sequence[EntraUser], removed: Sequence[RemovedUser]
            ) -> list[StoredUser]:
                ids = [user.id for user in users] + [r.id for r in removed]
                stored = await load_touched(
                    conn, ids, match_keys(users, config.match_attribute), extra=extra
                )
                await lifecycle.load_users(user.id for user in stored)
                return stored

        member_ids = await members.get()
        _check_cancel(progress)
        count = await _guard_count(rt, run, conn, config, index if full else None)
        total = counting.result() if counting is not None and counting.done() else None

        def applier_of(
            index: ScopeIndex, count: MassChangeCount | None, *, plan_only: bool = False
        ) -> BatchApplier:
            return BatchApplier(
                run,
                config,
                index,
                member_ids,
                progress,
                lambda: load_index(conn, extra=extra),
                touched=touched,
                count=count,
                plan_only=plan_only,
                lifecycle=lifecycle,
                reviews=reviews,
            )

        replay: _Kept | None = None
        if count is not None and not run.dry_run:
            # The guard: the whole round planned first, nothing written; then either the pause
            # or the writes, from what the check kept (or fetched again when it kept too much).
            await progress.phase("mass-change check", total=total)
            kept = _Kept(REPLAY_USERS, whole=not full)
            planner = applier_of(index, count, plan_only=True)
            total = await _apply_pages(chunks, planner, progress, counting, total, full, kept)
            if not full:
                await _look_up_unchanged(
                    run, conn, config, graph, progress, planner, member_ids, lifecycle, reviews
                )
            else:
                absent = len(lifecycle.absentees(planner.index))
                if absent:
                    counts = planner.planned_counts
                    counts["deactivated"] = counts.get("deactivated", 0) + absent
            verdict = count.verdict()
            await guard.record(run, verdict)
            if verdict.tripped:
                # Nothing written but what it would do: its counters and (the first
                # MAX_PLANNED_LOG rows of) its change log, for the admin who decides.
                async with in_transaction() as db:
                    await insert_changes(db, run.id, run.account_id, planner.planned_log)
                    progress.add(**planner.planned_counts)
                    await progress.save()
                if planner.planned_log_cut:
                    log.info(
                        "sync run %s: paused with the first %d rows of its change log",
                        run.id,
                        len(planner.planned_log),
                    )
                raise GuardTripped(verdict)
            log.info(
                "sync run %s: mass-change check passed (%d of %d imported users; %s)",
                run.id,
                verdict.affected,
                verdict.imported,
                "changes kept" if kept.complete else "fetching again",
            )
            if kept.complete:
                replay = kept
            else:
                chunks = asyncio.Queue(maxsize=PAGES_AHEAD)
                tasks.append(_start_pages(run, _source(rt, graph, choice, config, conn), chunks))
            if full and (replay is None or planner.planned_counts.get("created")):
                # The check's creations sit in its index under provisional ids: the writes
                # start from the scope as stored, loaded once the check's index is let go.
                del planner
                index = ScopeIndex()
                index = await load_index(conn, extra=extra)
            count = None
        await progress.phase("users" if full else "delta", total=total)
        applier = applier_of(index, count)
        if replay is not None:
            await _apply_kept(replay, applier, progress)
        else:
            await _apply_pages(chunks, applier, progress, counting, total, full)
        if not full:
            await _look_up_unchanged(
                run, conn, config, graph, progress, applier, member_ids, lifecycle, reviews
            )
        else:
            # Only after every page of the round is applied: a cancelled or failed round never
            # deactivates anyone.
            _check_cancel(progress)
            await lifecycle.write_absentees(run, progress, applier.index)
            if run.total is None:
                # The round listed every user of the tenant: that is the total ($count, asked
                # alongside, is best effort and may still be on its retries).
                await progress.phase(progress.run.phase, total=run.fetched)
        if count is not None:  # a dry run: whether the guard would have stopped the real one
            await guard.record(run, count.verdict())
        # full_round always ends with a link and delta_pages raises without one.
        assert applier.link is not None
        if not run.dry_run:
            await keep_link(
                conn,
                applier.link,
                config_version=conn.config_version,
                full_started=started if full else None,
            )
            if run.created >= ANALYZE_AFTER_CREATED:
                await _refresh_statistics(run)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def _source(
    rt: Runtime,
    graph: GraphClient,
    choice: RoundChoice,
    config: SyncConfig,
    conn: TenantConnection,
) -> AsyncIterator[Chunk]:
    manager = syncs_manager(config)  # issue 6: only when the managerEmail rule syncs it
    full = choice.mode is SyncMode.FULL
    if full:
        source = full_round(graph, rt.graph_url, user_select(config), manager=manager)
    else:
        source = delta_round(graph, choice.link, manager=manager)
    if not manager:
        return source
    return resolve_managers(source, ManagerResolver(conn, config, graph, remember=not full))


def _start_pages(
    run: SyncRun, source: AsyncIterator[Chunk], chunks: asyncio.Queue[_Item]
) -> asyncio.Task[None]:
    return asyncio.create_task(_produce(source, chunks), name=f"sync-run-{run.id}-pages")


async def _apply_pages(
    chunks: asyncio.Queue[_Item],
    applier: BatchApplier,
    progress: RunProgress,
    counting: asyncio.Task[int | None] | None,
    total: int | None,
    full: bool,
    kept: _Kept | None = None,
) -> int | None:
    """Apply (or plan) every batch of one pass over the round; returns the total when known.
    The round's delta link ends up in `applier.link`."""
    while (chunk := await _next_chunk(chunks)) is not None:
        _check_cancel(progress)
        if chunk.users or chunk.removed:
            await applier.apply(chunk.users, chunk.removed)
            if kept is not None:
                kept.add(chunk, applier.last_plan)
        elif kept is not None:
            kept.add(chunk, [])
        applier.link = chunk.delta_link or applier.link
        if total is None and counting is not None and counting.done():
            if (total := counting.result()) is not None:
                await progress.phase(progress.run.phase, total=total)
        _check_cancel(progress)
    return total


class _Kept:
    """What a guarded round's check keeps for its writes, up to `limit` users (beyond, nothing:
    the writes fetch the round again). A delta round keeps its chunks whole; a full round keeps
    just the users whose decision writes or logs something (a lifecycle transition included),
    and the counters of the others (an unchanged user needs no write, S10), so that an unchanged
    round keeps nothing."""

    def __init__(self, limit: int, *, whole: bool) -> None:
        self.limit = limit
        self.whole = whole
        # Each chunk to apply, and the counters (R1) of its users left out.
        self.chunks: list[tuple[Chunk, dict[str, int]]] = []
        self.users = 0
        self.complete = True

    def add(self, chunk: Chunk, planned: Sequence[tuple[EntraUser, bool]]) -> None:
        """One chunk as the check planned it (`BatchApplier.last_plan`): each user, and whether
        applying it writes or logs anything (the others were UNCHANGED, S10)."""
        if not self.complete:
            return
        rest: dict[str, int] = {}
        if not self.whole:
            users = [user for user, acts in planned if acts]
            rest = {"fetched": len(chunk.users) - len(users)}
            if len(planned) > len(users):
                rest["unchanged"] = len(planned) - len(users)
            chunk = Chunk(users, chunk.removed, chunk.delta_link)
        self.users += len(chunk.users) + len(chunk.removed)
        if self.users > self.limit:
            self.complete = False
            self.chunks.clear()
        else:
            self.chunks.append((chunk, rest))


async def _apply_kept(kept: _Kept, applier: BatchApplier, progress: RunProgress) -> None:
    """The writes of a guarded round that passed its check, from what the check kept."""
    for chunk, rest in kept.chunks:
        _check_cancel(progress)
        if chunk.users or chunk.removed:
            await applier.apply(chunk.users, chunk.removed)
        applier.link = chunk.delta_link or applier.link
        progress.add(**rest)
    _check_cancel(progress)
    await progress.save()  # the counters of users left out after the last write


async def _guard_count(
    rt: Runtime,
    run: SyncRun,
    conn: TenantConnection,
    config: SyncConfig,
    index: ScopeIndex | None,
) -> MassChangeCount | None:
    """The mass-change guard's counter when it applies to this run, else None: the connection
    has a threshold, the run was not approved already, and it holds at least
    `rt.mass_change_min_users` imported users (a full round counts them in its index, a delta
    round in the database)."""
    threshold = conn.mass_change_threshold
    if threshold is None or run.approved_at is not None:
        return None
    if index is not None:
        ids = index.linked_object_ids(config.tenant_id)
        if len(ids) < rt.mass_change_min_users:
            return None
        return MassChangeCount(threshold, imported_ids=ids)
    imported = await imported_count(conn, config.tenant_id)
    if imported < rt.mass_change_min_users:
        return None
    return MassChangeCount(threshold, imported_count=imported)


async def _look_up_unchanged(
    run: SyncRun,
    conn: TenantConnection,
    config: SyncConfig,
    graph: GraphClient,
    progress: RunProgress,
    applier: BatchApplier,
    member_ids: frozenset[str] | None,
    lifecycle: LifecycleRun,
    reviews: ReviewBook | None = None,
) -> None:
    """After a delta round's pages: the users a full round would act on although Entra did not
    change them (new group members, product edits; see `delta.ids_to_look_up`; group leavers
    under the lifecycle policy MARK_INACTIVE; review items an admin resolved with LINK or CREATE
    since the last round), fetched by id."""
    asked = set(await ids_to_look_up(conn, config, member_ids))
    asked.update(await lifecycle.look_ups(member_ids))
    if reviews is not None:
        asked.update(reviews.resolved_since(await last_round_start(conn)))
    wanted = [object_id for object_id in sorted(asked) if object_id not in applier.seen_ids]
    if not wanted:
        return
    log.info("sync run %s: looking up %d users Entra did not change", run.id, len(wanted))
    await progress.phase("delta: lookups")
    async for users in users_by_id(
        graph, wanted, user_select(config), manager=syncs_manager(config)
    ):
        _check_cancel(progress)
        await applier.apply(users)
    _check_cancel(progress)


async def _refresh_statistics(run: SyncRun) -> None:
    """PostgreSQL plans from table statistics, which after a bulk load still describe the table
    as it was until autovacuum catches up (a minute or more); meanwhile the indexed look-ups of
    the next delta round are planned as scans (40 ms instead of 2 for 100 users in 100k)."""
    db = EndUser._meta.db
    if db.capabilities.dialect != "postgres":
        return
    try:
        await db.execute_script('ANALYZE "end_user"')
    except Exception:  # an optimisation only: the run's work is committed
        log.warning("sync run %s: ANALYZE end_user failed", run.id, exc_info=True)


def _check_cancel(progress: RunProgress) -> None:
    if progress.cancel_requested:
        raise RunCancelled()


async def _produce(source: AsyncIterator[Chunk], chunks: asyncio.Queue[_Item]) -> None:
    try:
        async for chunk in source:
            await chunks.put(chunk)
    except Exception as exc:  # handed over, so it is raised inside graph_for and mapped there
        await chunks.put(_Failed(exc))
    else:
        await chunks.put(None)


async def _next_chunk(chunks: asyncio.Queue[_Item]) -> Chunk | None:
    item = await chunks.get()
    if isinstance(item, _Failed):
        raise item.error
    return item


async def _count(graph: GraphClient) -> int | None:
    """Best effort: the total only drives the percent shown (R2)."""
    try:
        return await graph.count_users()
    except EntraError as exc:
        log.info("could not count the tenant's users (%s); progress shows no percent", exc)
        return None


async def _heartbeat(run: SyncRun) -> None:
    while True:
        await asyncio.sleep(HEARTBEAT_EVERY)
        try:
            await SyncRun.filter(id=run.id).update(heartbeat_at=datetime.now(UTC))
        except Exception:  # a database outage fails the next batch; this only keeps the run alive
            log.warning("sync run %s: heartbeat not saved", run.id, exc_info=True)


class _Members:
    """W4: the users the group filter lets through, resolved once per run (a delta round that
    falls back to a full one reuses them); None without a filter."""

    def __init__(self, graph: GraphClient, config: SyncConfig, progress: RunProgress) -> None:
        self._graph = graph
        self._config = config
        self._progress = progress
        self._ids: frozenset[str] | None = None
        self._resolved = False

    async def get(self) -> frozenset[str] | None:
        if not self._resolved:
            self._ids = await _group_members(self._graph, self._config, self._progress)
            self._resolved = True
        return self._ids


async def _group_members(
    graph: GraphClient, config: SyncConfig, progress: RunProgress
) -> frozenset[str] | None:
    """W4: the users the group filter lets through, nested groups included; None without one.

    A selected group deleted since the configuration was saved counts as empty.
    """
    if config.group_filter == "NONE":
        return None
    await progress.phase("groups")
    if config.group_filter == "SELECTED":
        ids = await graph.transitive_user_ids_many(config.selected_group_ids, ignore_missing=True)
    else:
        # Every user in a group is a direct member of some group, so the union over all groups
        # is "in at least one group"; transitive listings give the same set, deduplicated.
        group_ids = [group.id async for batch in graph.iter_groups() for group in batch]
        ids = await graph.transitive_user_ids_many(
            group_ids, concurrency=GROUP_CONCURRENCY, ignore_missing=True
        )
    return frozenset(ids)
