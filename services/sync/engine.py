"""The sync engine's I/O: stream Graph pages, plan them against the scope, write them in batches."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from entra.errors import EntraError
from entra.graph import GraphClient
from entra.types import EntraUser
from models import ConnectionScope, EndUser, SyncRun, TenantConnection
from services.connections import graph_for
from services.errors import DomainError
from services.runtime import Runtime
from services.sync.batch import BatchApplier
from services.sync.config import SyncConfig
from services.sync.progress import RunProgress
from services.sync.runs import RunCancelled
from services.sync.snapshot import STORED_USER_COLUMNS, ScopeIndex
from services.wizard import sync_config

log = logging.getLogger("entrasync.sync")

# Pages fetched ahead of the writer: enough to keep Graph busy while the scope loads and groups
# resolve (about a second per 100k users) and while a batch is written, yet a few MB at most
# (under 1 KB per parsed user) whatever the tenant's size.
PAGES_AHEAD = 8
# R6 calls a run dead after runs.STALE_AFTER without a heartbeat; a page may spend longer than that
# in Graph's retries (RetryPolicy.total_budget), so the heartbeat does not wait for batches.
HEARTBEAT_EVERY = 30.0
# Groups whose transitive members are listed at once for ALL_GROUPS (SELECTED uses Graph's 4).
GROUP_CONCURRENCY = 8


class ConfigurationUnusable(DomainError):
    """The saved configuration is incomplete or contradictory (SyncConfig refused it)."""


@dataclass(frozen=True, slots=True)
class _Failed:
    error: BaseException


_Item = list[EntraUser] | _Failed | None


async def execute_run(
    rt: Runtime, run: SyncRun, conn: TenantConnection, progress: RunProgress
) -> None:
    """Run one full import/sync of `conn` into the product (S1-S11, W1-W6, R7, R8).

    Pages of `/users` are fetched by a producer task while the previous page is planned and
    written, each page in one transaction with its change log and the run's counters; a dry run
    (R7) writes only the change log and counters. `last_synced_at` moves only on users created
    or updated: an unchanged user is not written at all (S10).

    Raises RunCancelled between batches when a cancel was asked; BatchWriteFailed when a batch
    cannot be saved (rolled back whole); ReauthNeeded, ConsentNeeded and MicrosoftUnavailable
    (through graph_for) when Graph fails beyond its retries; ConfigurationUnusable for a
    configuration the planner refuses (a half-saved one).
    """
    await progress.phase("loading")
    try:
        config = await sync_config(conn)
    except ValueError as exc:
        raise ConfigurationUnusable(
            f"the saved import configuration cannot be applied ({exc}); configure the import again"
        ) from exc
    async with graph_for(rt, conn) as graph:
        pages: asyncio.Queue[_Item] = asyncio.Queue(maxsize=PAGES_AHEAD)
        # Fetching starts at once: loading the scope and resolving groups overlap the first pages.
        producer = asyncio.create_task(_produce(graph, pages), name=f"sync-run-{run.id}-pages")
        counting = asyncio.create_task(_count(graph), name=f"sync-run-{run.id}-count")
        beating = asyncio.create_task(_heartbeat(run), name=f"sync-run-{run.id}-heartbeat")
        try:
            index = await load_index(conn)
            members = await _group_members(graph, config, progress)
            _check_cancel(progress)
            total = counting.result() if counting.done() else None
            await progress.phase("users", total=total)
            applier = BatchApplier(run, config, index, members, progress, lambda: load_index(conn))
            while (page := await _next_page(pages)) is not None:
                _check_cancel(progress)
                if page:
                    await applier.apply(page)
                if total is None and counting.done() and (total := counting.result()) is not None:
                    await progress.phase("users", total=total)
                _check_cancel(progress)
        finally:
            for task in (producer, counting, beating):
                task.cancel()
            await asyncio.gather(producer, counting, beating, return_exceptions=True)


async def load_index(conn: TenantConnection) -> ScopeIndex:
    """The connection's scope (S2: its site, or every site of its account) in one query."""
    users = EndUser.filter(account_id=conn.account_id)
    if conn.scope is ConnectionScope.SITE:
        users = users.filter(site_id=conn.site_id)
    return ScopeIndex.from_rows(await users.values_list(*STORED_USER_COLUMNS))


def _check_cancel(progress: RunProgress) -> None:
    if progress.cancel_requested:
        raise RunCancelled()


async def _produce(graph: GraphClient, pages: asyncio.Queue[_Item]) -> None:
    try:
        async for page in graph.iter_user_pages():
            await pages.put(page)
    except Exception as exc:  # handed over, so it is raised inside graph_for and mapped there
        await pages.put(_Failed(exc))
    else:
        await pages.put(None)


async def _next_page(pages: asyncio.Queue[_Item]) -> list[EntraUser] | None:
    item = await pages.get()
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
