"""The import benchmark's references: fetch-only, the naive ORM loop, and the raw-driver floor."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tortoise import connections
from tortoise.transactions import in_transaction

from api.db import close_database, open_database
from bench.import_run import Product
from entra.types import EntraUser
from models import (
    Account,
    AccountMode,
    ChangeAction,
    ChangeLogEntry,
    ConnectionScope,
    EndUser,
    Site,
    SyncRun,
    TenantConnection,
    UserSource,
)
from services.connections import graph_for
from services.sync.config import SyncConfig
from services.sync.rules import (
    Fields,
    Link,
    email_key,
    entra_email,
    filter_reason,
    normalize_email,
    route,
    sanitize,
)
from services.wizard import sync_config

# The columns the engine's insert writes (services/sync/writer.py), in its order.
USER_COLUMNS = (
    "account_id",
    "site_id",
    "email",
    "email_key",
    *Fields._fields,
    "source",
    *Link._fields,
    "last_synced_at",
    "created_at",
    "updated_at",
)
CHANGE_COLUMNS = (
    "run_id",
    "account_id",
    "action",
    "entra_object_id",
    "email",
    "display_name",
    "end_user_id",
    "site_id",
    "reason",
    "changes",
)
_TIMESTAMPS = 3  # the last three USER_COLUMNS


# --- fetch only -------------------------------------------------------------------------------


async def fetch_only(p: Product, keep: int = 0) -> tuple[float, int, int, list[EntraUser]]:
    """Every page of /users through the engine's client and select, parsed, nothing written.

    Returns (seconds, users, pages, the first `keep` users).
    """
    conn = await TenantConnection.get(id=p.connection_id)
    kept: list[EntraUser] = []
    users = pages = 0
    began = time.perf_counter()
    async with graph_for(p.rt, conn) as graph:
        async for page in graph.iter_user_pages():
            users += len(page)
            pages += 1
            if len(kept) < keep:
                kept.extend(page[: keep - len(kept)])
    return time.perf_counter() - began, users, pages, kept


# --- what the references write, captured from the product database ---------------------------


@dataclass(slots=True)
class Captured:
    account_id: int
    connection_id: int
    sites: list[tuple[int, str]]
    config: SyncConfig
    user_rows: list[list[Any]]  # USER_COLUMNS of every end user the import wrote
    change_rows: list[list[Any]]  # CHANGE_COLUMNS of the import's change log
    import_run_id: int


async def capture(p: Product, import_run_id: int) -> Captured:
    conn = await TenantConnection.get(id=p.connection_id)
    db = connections.get("default")
    names = ", ".join(f'"{c}"' for c in USER_COLUMNS)
    _, users = await db.execute_query(f'SELECT {names} FROM "end_user" ORDER BY "id"')
    names = ", ".join(f'"{c}"' for c in CHANGE_COLUMNS)
    _, changes = await db.execute_query(
        f'SELECT {names} FROM "change_log_entry" WHERE "run_id" = {int(import_run_id)} '
        'ORDER BY "id"'
    )
    change_rows = []
    for row in changes:
        values = list(row)
        if not isinstance(values[-1], str):
            values[-1] = json.dumps(values[-1], ensure_ascii=False, separators=(",", ":"))
        change_rows.append(values)
    sites = await Site.filter(account_id=conn.account_id).order_by("id").values_list("id", "name")
    return Captured(
        account_id=conn.account_id,
        connection_id=conn.id,
        sites=[(int(i), str(n)) for i, n in sites],
        config=await sync_config(conn),
        user_rows=[list(r) for r in users],
        change_rows=change_rows,
        import_run_id=import_run_id,
    )


async def _same_parents(c: Captured) -> None:
    """The account, sites, connection and run the captured rows point at, with the same ids."""
    await Account.create(id=c.account_id, name="Bench", mode=AccountMode.IT_DEPARTMENT)
    for site_id, name in c.sites:  # one by one: bulk_create does not keep given ids everywhere
        await Site.create(id=site_id, account_id=c.account_id, name=name)
    await TenantConnection.create(
        id=c.connection_id, account_id=c.account_id, scope=ConnectionScope.ACCOUNT
    )
    await SyncRun.create(id=c.import_run_id, account_id=c.account_id, connection_id=c.connection_id)


# --- naive: one user at a time through the ORM -----------------------------------------------


@dataclass(frozen=True, slots=True)
class _NaiveUser:
    site_id: int
    email: str
    key: str
    fields: Fields
    link: Link


def _naive_inputs(users: list[EntraUser], config: SyncConfig) -> list[_NaiveUser]:
    """The same values the engine computes (route, email, S11 sanitising), minus its bulk work."""
    out = []
    for user in users:
        site_id = route(user, config)
        raw = entra_email(user, config.match_attribute)
        email = normalize_email(raw) if raw else None
        if filter_reason(user, config, None) or not isinstance(site_id, int) or email is None:
            continue
        link = Link(user.id, config.tenant_id, email, user.user_type, user.account_enabled)
        out.append(_NaiveUser(site_id, email, email_key(email), sanitize(user)[0], link))
    return out


async def naive_loop(
    url: str, c: Captured, users: list[EntraUser], *, with_change_log: bool = False
) -> tuple[float, int]:
    """Look each user up, then create or save it, one by one, autocommit; (seconds, users).

    `with_change_log` also creates its change-log row (R8) through the ORM, as the engine
    writes one per created user: the same work, done naively.
    """
    todo = _naive_inputs(users, c.config)
    await open_database(url)
    try:
        await _same_parents(c)
        began = time.perf_counter()
        for u in todo:
            now = datetime.now(UTC)
            values = {
                **u.fields._asdict(),
                "email": u.email,
                "source": UserSource.ENTRA,
                **u.link._asdict(),
                "last_synced_at": now,
            }
            row = await EndUser.get_or_none(site_id=u.site_id, email_key=u.key)
            created = row is None
            if row is None:
                row = await EndUser.create(
                    account_id=c.account_id, site_id=u.site_id, email_key=u.key, **values
                )
            else:
                row.update_from_dict(values)
                await row.save()
            if with_change_log:
                await ChangeLogEntry.create(
                    run_id=c.import_run_id,
                    account_id=c.account_id,
                    action=ChangeAction.CREATE if created else ChangeAction.UPDATE,
                    entra_object_id=u.link.entra_object_id,
                    email=u.email,
                    end_user_id=row.id,
                    site_id=u.site_id,
                    changes={k: ["", v] for k, v in u.fields._asdict().items() if v},
                )
        return time.perf_counter() - began, len(todo)
    finally:
        await close_database()


# --- raw floor: one executemany in one transaction ---------------------------------------------


def _insert_sql(dialect: str, table: str, columns: tuple[str, ...]) -> str:
    marks = (
        ["?"] * len(columns) if dialect == "sqlite" else [f"${n + 1}" for n in range(len(columns))]
    )
    names = ", ".join(f'"{c}"' for c in columns)
    return f'INSERT INTO "{table}" ({names}) VALUES ({", ".join(marks)})'


async def raw_floor(
    url: str, dialect: str, c: Captured, *, with_change_log: bool
) -> tuple[float, int]:
    """The import's end_user rows (and optionally its change log) in one transaction through
    Tortoise's connection `execute_many`, i.e. the same driver; (seconds, rows)."""
    now = datetime.now(UTC)
    users = [[*r[:-_TIMESTAMPS], now, now, now] for r in c.user_rows]
    await open_database(url)
    try:
        await _same_parents(c)
        began = time.perf_counter()
        async with in_transaction() as db:
            await db.execute_many(_insert_sql(dialect, "end_user", USER_COLUMNS), users)
            if with_change_log:
                await db.execute_many(
                    _insert_sql(dialect, "change_log_entry", CHANGE_COLUMNS), c.change_rows
                )
        rows = len(users) + (len(c.change_rows) if with_change_log else 0)
        return time.perf_counter() - began, rows
    finally:
        await close_database()
