"""The connection's scope read from the database: whole for a full round, or the rows a batch touches."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from enum import Enum
from functools import partial
from typing import Any, cast

from tortoise.expressions import F
from tortoise.fields import BigIntField, BooleanField, CharField, IntField, SmallIntField, TextField
from tortoise.fields.data import CharEnumFieldInstance
from tortoise.queryset import QuerySet

from entra.types import EntraUser
from models import ConnectionScope, EndUser, TenantConnection
from services.sync.rules import email_key, entra_email, normalize_email
from services.sync.snapshot import (
    CORE_USER_COLUMNS,
    STORED_USER_COLUMNS,
    ScopeIndex,
    StoredUser,
)

# Values per IN list: under SQLite's 32,766 host parameters, and short enough for any planner.
IN_CHUNK = 1000


def scope_of(conn: TenantConnection) -> QuerySet[EndUser]:
    """S2: the end users a connection matches against: its site, or every site of its account."""
    users = EndUser.filter(account_id=conn.account_id)
    if conn.scope is ConnectionScope.SITE:
        users = users.filter(site_id=conn.site_id)
    return users


def _columns(extra: bool) -> tuple[str, ...]:
    return STORED_USER_COLUMNS if extra else CORE_USER_COLUMNS


async def load_index(conn: TenantConnection, *, extra: bool = True) -> ScopeIndex:
    """The whole scope in one query (full rounds: every user of the tenant is planned).

    `extra=False` leaves out the optional fields (read as ""), for a run whose field rules sync
    none of them (issue 6).

    `scope_of(conn)` read as the driver's rows, converted only where the driver's value is not
    already what `values_list` would give (enums, SQLite's 0/1 booleans): `values_list` passes
    each of the ~1.5M values of a 100,000-user scope through its field's converter, most of the
    load's time.
    """
    db = EndUser._meta.db
    dialect = db.capabilities.dialect
    marks = ["?", "?"] if dialect == "sqlite" else ["$1", "$2"]
    where = f'"account_id" = {marks[0]}'
    values: list[Any] = [conn.account_id]
    if conn.scope is ConnectionScope.SITE:
        where += f' AND "site_id" = {marks[1]}'
        values.append(conn.site_id)
    wanted = _columns(extra)
    columns = ", ".join(f'"{c}"' for c in wanted)
    _, found = await db.execute_query(
        f'SELECT {columns} FROM "end_user" WHERE {where}',  # noqa: S608
        values,
    )
    rows = cast(Sequence[Sequence[Any]], found)  # sqlite3.Row or asyncpg Record: by position
    converters = _converters(dialect, wanted)
    if not converters:
        return ScopeIndex.from_rows(rows)
    converted = []
    for row in rows:
        items = list(row)
        for at, convert in converters:
            items[at] = convert(items[at])
        converted.append(items)
    return ScopeIndex.from_rows(converted)


def _converters(dialect: str, columns: Sequence[str]) -> list[tuple[int, Callable[[Any], Any]]]:
    """Per position of `columns`, what turns the driver's value into the field's own."""
    found: list[tuple[int, Callable[[Any], Any]]] = []
    for at, name in enumerate(columns):
        field = EndUser._meta.fields_map[name]
        if isinstance(field, CharEnumFieldInstance):
            found.append((at, _member_of(field.enum_type)))
        elif type(field) in _AS_READ or (dialect == "postgres" and type(field) in _AS_READ_PG):
            continue
        else:
            found.append((at, partial(field.to_python_value)))
    return found


def _member_of(enum_type: type[Enum]) -> Callable[[Any], Any]:
    members = {member.value: member for member in enum_type}

    def member(value: Any) -> Any:
        return None if value is None else members[value]

    return member


# Fields whose values the drivers already return as Python's own types.
_AS_READ = (CharField, TextField, IntField, BigIntField, SmallIntField)
_AS_READ_PG = (BooleanField,)


def match_keys(users: Iterable[EntraUser], match_attribute: str) -> set[str]:
    """The email keys the planner will look up for these users (S2), as `plan_user` derives them."""
    keys: set[str] = set()
    for user in users:
        raw = entra_email(user, match_attribute)
        email = normalize_email(raw) if raw is not None else None
        if email is not None:
            keys.add(email_key(email))
    return keys


async def load_touched(
    conn: TenantConnection, object_ids: Iterable[str], keys: Iterable[str], *, extra: bool = True
) -> list[StoredUser]:
    """The scope's users a batch can match: linked to one of `object_ids`, or holding one of `keys`.

    For those Entra users the planner reads nothing else from the index (`match` looks up the
    link by object id and the candidates by email key), so an index of these rows gives the
    decisions the whole scope would. Two indexed queries per IN chunk: (account,
    entra_object_id) and (account, email_key). `extra` as for `load_index`.
    """
    columns = _columns(extra)
    rows: dict[int, StoredUser] = {}
    for column, values in (("entra_object_id", object_ids), ("email_key", keys)):
        wanted = list(dict.fromkeys(values))
        for start in range(0, len(wanted), IN_CHUNK):
            chunk = wanted[start : start + IN_CHUNK]
            found = await scope_of(conn).filter(**{f"{column}__in": chunk}).values_list(*columns)
            for row in found:
                rows[int(row[0])] = StoredUser(*row)
    return list(rows.values())


async def linked_object_ids(conn: TenantConnection, tenant_id: str) -> set[str]:
    """Entra object ids of this tenant that a user of the scope holds an intact link to (S7)."""
    rows = await (
        scope_of(conn)
        .filter(entra_tenant_id=tenant_id, entra_object_id__not_isnull=True)
        .values_list("entra_object_id", "entra_last_email", "email_key")
    )
    return {
        str(object_id)
        for object_id, last_email, key in rows
        if last_email is not None and email_key(str(last_email)) == key
    }


async def imported_count(conn: TenantConnection, tenant_id: str) -> int:
    """How many users of the scope are linked to this tenant (the mass-change guard's base for a
    delta round; one indexed COUNT, where a full round counts intact links in its index)."""
    return await (
        scope_of(conn).filter(entra_tenant_id=tenant_id, entra_object_id__not_isnull=True).count()
    )


async def edited_in_product(conn: TenantConnection, tenant_id: str, since: datetime) -> list[str]:
    """Entra object ids of the scope's users linked to this tenant that the product changed after
    `since` and after the sync last wrote them (S6, S7).

    A sync writes `updated_at` and `last_synced_at` together; a product edit moves `updated_at`
    alone. A full round would overwrite such an edit (S6), or create a new user when the email
    was changed (S7), but the Entra object did not change, so a delta round must ask for it.
    """
    rows = await (
        scope_of(conn)
        .filter(
            entra_tenant_id=tenant_id,
            entra_object_id__not_isnull=True,
            updated_at__gt=since,
        )
        .filter(updated_at__gt=F("last_synced_at"))
        .values_list("entra_object_id", flat=True)
    )
    return sorted({str(object_id) for object_id in rows})
