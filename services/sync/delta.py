"""R9: which round a run makes (FULL or DELTA), where its users come from, and when its link is kept."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from entra.errors import EntraError, GraphRequestError
from entra.graph import GraphClient
from entra.types import LICENSES, MANAGER, USER_SELECT, EntraUser, RemovedUser
from models import ConnectionStatus, RunStatus, SyncMode, SyncRun, TenantConnection
from services.sync.config import SyncConfig
from services.sync.scope import edited_in_product, linked_object_ids

log = logging.getLogger("entrasync.sync")

# Graph pages /users/delta by about 200; a delta round is written in batches of a /users page's
# size, so that a large round costs as many transactions as a full one.
BATCH_USERS = 999
# `$filter=id in (...)` on /users: Graph accepts at most 15 values in an `in` list.
IDS_PER_REQUEST = 15
# Look-ups by id in flight at once (Graph throttles per app and tenant; R10 retries the rest).
ID_LOOKUPS_AT_ONCE = 4

DELTA_REASON = "changes since the last round (Graph delta)"
EXPIRED_REASON = "the delta token expired; a full round replaces the incremental one"


@dataclass(frozen=True, slots=True)
class RoundChoice:
    """The round a run makes, why (shown on the run), and the link a DELTA round starts from."""

    mode: SyncMode
    reason: str
    link: str | None = None


def choose_round(conn: TenantConnection, now: datetime, full_every: timedelta) -> RoundChoice:
    """FULL unless the connection holds a delta link taken under its current configuration and
    its last full round is younger than `full_every` (R9).

    A configuration change forces a full round: a new mapping or filter must reach users that
    did not change in Entra, and a delta round only sees those that did.
    """
    if full_every <= timedelta(0):
        return RoundChoice(SyncMode.FULL, "incremental sync is off: every run is a full round")
    if not conn.delta_link:
        return RoundChoice(
            SyncMode.FULL, "no delta link yet: first run, or no full round completed"
        )
    if conn.delta_config_version != conn.config_version:
        return RoundChoice(SyncMode.FULL, "the import configuration changed since the last round")
    last = conn.last_full_sync_at
    if last is None:
        return RoundChoice(SyncMode.FULL, "a full round was asked for")
    if now - last >= full_every:
        return RoundChoice(SyncMode.FULL, f"a full round is due (every {_period(full_every)})")
    return RoundChoice(SyncMode.DELTA, DELTA_REASON, conn.delta_link)


def _period(span: timedelta) -> str:
    hours = span.total_seconds() / 3600
    if hours >= 1:
        return f"{hours:g} h"
    return f"{span.total_seconds() / 60:g} min"


def user_select(config: SyncConfig) -> tuple[str, ...]:
    """The user properties a round of this configuration reads: USER_SELECT, and assignedLicenses
    when the licensed-only filter needs it (issue 6). A delta link tracks the properties its
    round selected; changing the filter changes config_version, so a full round takes a new one."""
    if config.policies.licensed_only:
        return (*USER_SELECT, LICENSES)
    return USER_SELECT


def syncs_manager(config: SyncConfig) -> bool:
    """Whether a round reads each user's manager: only when the managerEmail field rule syncs
    it (issue 6). The default import never asks Graph for managers (pages of 999, no expand)."""
    return "manager_email" in config.field_plan.extras


def delta_select(config: SyncConfig) -> tuple[str, ...]:
    """What a delta link of this configuration tracks: `user_select`, and `manager` (answered
    as `manager@delta`) when the manager is synced. /users takes `$expand` instead."""
    select = user_select(config)
    return (*select, MANAGER) if syncs_manager(config) else select


@dataclass(frozen=True, slots=True)
class Chunk:
    """One batch of a round: users to plan, `@removed` entries to log (never applied, S5), and on
    the round's last chunk the delta link to keep once everything before it is committed."""

    users: list[EntraUser]
    removed: list[RemovedUser] = field(default_factory=list)
    delta_link: str | None = None


async def full_round(
    graph: GraphClient,
    graph_url: str,
    select: Sequence[str] = USER_SELECT,
    *,
    manager: bool = False,
) -> AsyncIterator[Chunk]:
    """Every user, from `/users` pages of 999, then a delta link for the next incremental round.

    The link is taken with `$deltatoken=latest` *before* the listing starts, so a change made
    while the pages are read is in the next delta round as well (replayed, which is harmless).
    A fresh `/users/delta` round would carry the same users and its own link, but in pages of
    about 200: five times the requests (bench/RESULTS.md, "Incremental sync"). Should Graph
    refuse `latest`, the round is read that way instead.

    `manager` (issue 6) expands each user's manager on /users (pages of 100, Graph's limit with
    $expand) and tracks `manager` in the delta link.
    """
    tracked = (*select, MANAGER) if manager else select
    try:
        link = await latest_link(graph, graph_url, tracked)
    except GraphRequestError as exc:
        log.warning("Graph refused $deltatoken=latest (%s); reading a fresh delta round", exc)
        async for chunk in delta_round(graph, None, tracked, manager=manager):
            yield chunk
        return
    async for users in graph.iter_user_pages(select=select, manager=manager):
        yield Chunk(users)
    yield Chunk([], delta_link=link)


async def latest_link(
    graph: GraphClient, graph_url: str, select: Sequence[str] = USER_SELECT
) -> str:
    """A delta link that starts from now ("sync from now": no users, just the link)."""
    start = f"{graph_url}/users/delta?$select={','.join(select)}&$deltatoken=latest"
    link = ""
    async for page in graph.delta_pages(start):
        link = page.delta_link or link
    return link  # delta_pages raises GraphError when the last page carries no link


async def delta_round(
    graph: GraphClient,
    link: str | None,
    select: Sequence[str] = USER_SELECT,
    *,
    manager: bool = False,
) -> AsyncIterator[Chunk]:
    """A delta round from `link` (a fresh one from None, reading `select`), pages merged into
    batches of about BATCH_USERS; `manager` reads `manager@delta` (ids only: see
    services/sync/managers.py). Raises DeltaTokenExpired when the link is no longer valid."""
    users: list[EntraUser] = []
    removed: list[RemovedUser] = []
    async for page in graph.delta_pages(link, select=select, manager=manager):
        users.extend(page.users)
        removed.extend(page.removed)
        if page.delta_link is not None:
            yield Chunk(users, removed, page.delta_link)
            return
        if len(users) + len(removed) >= BATCH_USERS:
            yield Chunk(users, removed)
            users, removed = [], []


async def ids_to_look_up(
    conn: TenantConnection, config: SyncConfig, members: frozenset[str] | None
) -> list[str]:
    """Entra users a full round would act on although their objects did not change, so that
    /users/delta does not list them; a delta round fetches them by id and plans them too.

    - W4: members of the filter's groups that no user of the scope is linked to. Joining a
      group changes the group, not the user. Members that stay unlinked for another reason
      (unmapped, no email) are looked up again by every delta round.
    - S6, S7: users linked to this tenant and edited in the product since the last round
      started; the full round would overwrite the edit, or re-create a user whose email the
      product changed.

    End users deleted in the product, and manual ones added with an Entra user's email, are
    not seen until the next full round.
    """
    wanted: set[str] = set()
    if members is not None:
        linked = await linked_object_ids(conn, config.tenant_id)
        wanted.update(m for m in members if m not in linked)
    since = await _last_round_start(conn)
    if since is not None:
        wanted.update(await edited_in_product(conn, config.tenant_id, since))
    return sorted(wanted)


async def _last_round_start(conn: TenantConnection) -> datetime | None:
    """When the run that took the connection's delta link started (its last successful one)."""
    last = (
        await SyncRun.filter(
            connection_id=conn.id,
            status=RunStatus.SUCCEEDED,
            dry_run=False,
            mode__not_isnull=True,
        )
        .order_by("-id")
        .first()
    )
    if last is not None and last.started_at is not None:
        return last.started_at
    return conn.last_full_sync_at


async def users_by_id(
    graph: GraphClient,
    ids: Sequence[str],
    select: Sequence[str] = USER_SELECT,
    *,
    manager: bool = False,
) -> AsyncIterator[list[EntraUser]]:
    """The current state of these users, in batches of up to BATCH_USERS; ids Graph no longer
    knows (deleted meanwhile) are left out. `/users?$filter=id in (...)`, IDS_PER_REQUEST ids a
    request, ID_LOOKUPS_AT_ONCE requests at once; `manager` expands each user's manager. Raises
    the GraphError subtypes."""
    gate = asyncio.Semaphore(ID_LOOKUPS_AT_ONCE)

    async def lookup(chunk: Sequence[str]) -> list[EntraUser]:
        found: list[EntraUser] = []
        async with gate:
            async for page in graph.iter_user_pages(
                select=select, filter=_id_filter(chunk), manager=manager
            ):
                found.extend(page)
        return found

    per_wave = max(1, BATCH_USERS // IDS_PER_REQUEST)
    chunks = [ids[i : i + IDS_PER_REQUEST] for i in range(0, len(ids), IDS_PER_REQUEST)]
    for start in range(0, len(chunks), per_wave):
        try:
            async with asyncio.TaskGroup() as tg:
                tasks = [tg.create_task(lookup(c)) for c in chunks[start : start + per_wave]]
        except* EntraError as group:
            # Callers catch entra errors, not ExceptionGroups: surface the first failure.
            raise group.exceptions[0] from None
        users = [user for task in tasks for user in task.result()]
        if users:
            yield users


def _id_filter(ids: Sequence[str]) -> str:
    quoted = ",".join("'" + i.replace("'", "''") + "'" for i in ids)
    return f"id in ({quoted})"


async def keep_link(
    conn: TenantConnection, link: str, *, config_version: int, full_started: datetime | None
) -> None:
    """Store a round's delta link once every batch of the round is committed (R9).

    It is stored under the configuration version the round applied, so a configuration saved
    meanwhile still forces a full round. A FULL round also records when it started: the next
    full one is due a period after that. A connection disconnected meanwhile keeps no link (C7).
    """
    values: dict[str, object] = {"delta_link": link, "delta_config_version": config_version}
    if full_started is not None:
        values["last_full_sync_at"] = full_started
    await (
        TenantConnection.filter(id=conn.id)
        .exclude(status=ConnectionStatus.DISCONNECTED)
        .update(**values)
    )


async def forget_link(conn: TenantConnection) -> None:
    """Drop an expired delta link, so that no later run tries it again."""
    await TenantConnection.filter(id=conn.id, delta_link=conn.delta_link).update(delta_link=None)


async def request_full_round(connection_id: int) -> None:
    """Make the connection's next run a full round (its delta link is kept until that round
    replaces it). For an admin who wants product-side deletions and new manual users reconciled
    now rather than at the next scheduled full round."""
    await TenantConnection.filter(id=connection_id).update(last_full_sync_at=None)
