"""One batch's SQL on a transaction's connection: end users and change-log rows, in bulk."""

from __future__ import annotations

import json
import sqlite3
import unicodedata
from collections.abc import Mapping, Sequence
from datetime import datetime
from json.encoder import encode_basestring
from typing import Any, NamedTuple

from tortoise.backends.base.client import BaseDBAsyncClient

from services.sync.fields import OPTIONAL_FIELDS, Extra
from services.sync.reasons import Trim
from services.sync.rules import Fields, Link

# Column sizes of models.sync_run.ChangeLogEntry; Entra's raw values are cut to them for the log.
MAX_LOG_OBJECT_ID = 64
MAX_LOG_EMAIL = 320
MAX_LOG_DISPLAY_NAME = 256
MAX_LOG_REASON = 40
# models.end_user.EndUser.user_type: Graph sends "Member"/"Guest", but the planner keeps the raw
# value, which the W5 filter accepts with any padding; cut so that a batch can't fail on it.
MAX_USER_TYPE = 20

_USER_INSERT = (
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
# Element types of the unnest() arrays of the PostgreSQL insert; the others are text.
_PG_ARRAY_TYPES = {
    "account_id": "int",
    "site_id": "int",
    "account_enabled": "bool",
    "last_synced_at": "timestamptz",
    "created_at": "timestamptz",
    "updated_at": "timestamptz",
}
_CHANGE_INSERT = (
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
# Visible fields are written as COALESCE(new, current): NULL keeps what the row holds now, so a
# product edit made since the scope was loaded survives in every field the sync did not change.
_KEPT_UNLESS_GIVEN = ("email", "email_key", *Fields._fields)
_ALWAYS_SET = ("source", *Link._fields, "last_synced_at", "updated_at")


class NewUser(NamedTuple):
    """One end user to insert (S3): source ENTRA, linked to its Entra object (S7)."""

    site_id: int
    email: str
    email_key: str
    fields: Fields
    link: Link
    # Issue 6: the optional fields, when a field rule syncs any (else the columns' defaults).
    extra: Extra | None = None


class UserUpdate(NamedTuple):
    """One end user to update; `email`/`fields` entries that are None keep the stored value."""

    id: int
    email: str | None
    email_key: str | None
    fields: tuple[str | None, ...]
    link: Link
    # Issue 6: the optional fields (None entries keep the stored value), when a rule syncs any.
    extra: tuple[str | None, ...] | None = None


class ChangeRow(NamedTuple):
    """One change-log row (R8), with texts already cut to their columns."""

    action: str
    entra_object_id: str
    email: str
    display_name: str
    end_user_id: int | None
    site_id: int | None
    reason: str
    changes: Mapping[str, Sequence[str]]


# One encoder for every row: json.dumps with options builds a new one per call.
_to_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_quoted = encode_basestring  # a JSON string literal, as _to_json writes it (ensure_ascii off)
# SQLite's limit on host parameters per statement (SQLITE_MAX_VARIABLE_NUMBER since 3.32).
SQLITE_MAX_PARAMETERS = 32_766
# INSERT ... RETURNING: SQLite 3.35 and later.
_SQLITE_RETURNING = sqlite3.sqlite_version_info >= (3, 35)


def _placeholders(dialect: str, count: int, start: int = 1) -> list[str]:
    if dialect == "sqlite":
        return ["?"] * count
    if dialect == "postgres":
        return [f"${n}" for n in range(start, start + count)]
    raise ValueError(f"the sync engine does not support the {dialect!r} dialect")


def changes_json(changes: Mapping[str, Sequence[str]]) -> str:
    """A change-log row's `changes` ({field: [old, new], "trims": [...]}) as JSON text: the same
    text as the shared encoder's, about 4x faster for these few short strings (building the
    encoder's C state costs more than the text; measured 1.2 against 5.3 us a row)."""
    try:
        return (
            "{"
            + ",".join(
                f"{_quoted(name)}:[{','.join(map(_quoted, values))}]"
                for name, values in changes.items()
            )
            + "}"
        )
    except TypeError:  # a value that is not text: the encoder knows every JSON type
        return _to_json(dict(changes))


def _stamp(db: BaseDBAsyncClient, now: datetime) -> datetime | str:
    """A batch's write time as bound: on SQLite, the text the registered datetime adapter makes
    of it, made once per batch rather than by the driver for each of 3,000 row values (a
    Python call each, holding the GIL in the driver's thread: ~20% of the inserts' time)."""
    if db.capabilities.dialect != "sqlite":
        return now
    stamp: datetime | str = sqlite3.adapt(now, sqlite3.PrepareProtocol, now)
    return stamp


def _insert_sql(db: BaseDBAsyncClient, table: str, columns: Sequence[str]) -> str:
    marks = _placeholders(db.capabilities.dialect, len(columns))
    names = ", ".join(f'"{c}"' for c in columns)
    return f'INSERT INTO "{table}" ({names}) VALUES ({", ".join(marks)})'  # noqa: S608


def loggable(text: str | None, limit: int) -> str:
    """Entra text made storable in a log column: no control characters or lone surrogates, cut."""
    if not text:
        return ""
    if not text.isprintable():
        text = "".join(ch for ch in text if unicodedata.category(ch) not in ("Cc", "Cs"))
    return text[:limit]


def storable_link(link: Link) -> Link:
    """The link metadata as written: a userType longer than its column is cut (S11)."""
    user_type = link.user_type
    if user_type is not None and len(user_type) > MAX_USER_TYPE:
        return link._replace(user_type=user_type[:MAX_USER_TYPE])
    return link


def trim_notes(trims: Sequence[Trim]) -> tuple[str, list[str]]:
    """S11 trims as the log records them: a reason code list and one "field:REASON:length" each."""
    if not trims:
        return "", []
    notes = [f"{t.field}:{t.reason.value}:{t.original_length}" for t in trims]
    codes = ",".join(sorted({t.reason.value for t in trims}))
    return codes[:MAX_LOG_REASON], notes


async def insert_users(
    db: BaseDBAsyncClient, account_id: int, users: Sequence[NewUser], now: datetime
) -> dict[tuple[int, str], int]:
    """Insert new ENTRA end users; returns their ids by (site_id, email_key).

    SQLite: one multi-row INSERT ... RETURNING per SQLITE_MAX_PARAMETERS (a batch of 1,000
    users is one statement; before SQLite 3.35, an executemany and a SELECT of the ids by key).
    PostgreSQL: one INSERT ... SELECT FROM unnest(arrays) RETURNING, since a SELECT by key list
    planned while the table grows fast can fall back to a sequential scan per batch.
    Raises IntegrityError when a (site, email) is taken meanwhile.
    """
    if not users:
        return {}
    stamp = _stamp(db, now)
    rows = [
        [
            account_id,
            u.site_id,
            u.email,
            u.email_key,
            *u.fields,
            "ENTRA",
            *u.link,
            stamp,
            stamp,
            stamp,
        ]
        for u in users
    ]
    columns: tuple[str, ...] = _USER_INSERT
    if any(u.extra is not None for u in users):
        columns = (*_USER_INSERT, *OPTIONAL_FIELDS)
        for row, u in zip(rows, users, strict=True):
            row.extend(u.extra or ("", "", "", ""))
    if db.capabilities.dialect == "postgres":
        arrays = [
            f"${n}::{_PG_ARRAY_TYPES.get(column, 'text')}[]"
            for n, column in enumerate(columns, start=1)
        ]
        names = ", ".join(f'"{c}"' for c in columns)
        sql = (
            f'INSERT INTO "end_user" ({names}) SELECT * FROM unnest({", ".join(arrays)}) '  # noqa: S608
            'RETURNING "id", "site_id", "email_key"'
        )
        returned = await db.execute_query_dict(
            sql, [list(column) for column in zip(*rows, strict=True)]
        )
        return {(int(r["site_id"]), str(r["email_key"])): int(r["id"]) for r in returned}
    if not _SQLITE_RETURNING:
        await db.execute_many(_insert_sql(db, "end_user", columns), rows)
        return await _ids_by_key(db, account_id, [u.email_key for u in users])
    ids: dict[tuple[int, str], int] = {}
    names = ", ".join(f'"{c}"' for c in columns)
    row_marks = f"({', '.join(['?'] * len(columns))})"
    step = SQLITE_MAX_PARAMETERS // len(columns)
    for start in range(0, len(rows), step):
        chunk = rows[start : start + step]
        sql = (
            f'INSERT INTO "end_user" ({names}) VALUES {", ".join([row_marks] * len(chunk))} '  # noqa: S608
            'RETURNING "id", "site_id", "email_key"'
        )
        # (execute_query: SQLite's returns the rows of any statement, PostgreSQL's only a SELECT's)
        _, inserted = await db.execute_query(sql, [value for row in chunk for value in row])
        ids.update(((r[1], r[2]), r[0]) for r in inserted)
    return ids


async def _ids_by_key(
    db: BaseDBAsyncClient, account_id: int, keys: Sequence[str]
) -> dict[tuple[int, str], int]:
    wanted = list(dict.fromkeys(keys))
    marks = _placeholders(db.capabilities.dialect, len(wanted) + 1)
    sql = (
        'SELECT "id", "site_id", "email_key" FROM "end_user" '  # noqa: S608
        f'WHERE "account_id" = {marks[0]} AND "email_key" IN ({", ".join(marks[1:])})'
    )
    rows = await db.execute_query_dict(sql, [account_id, *wanted])
    return {(int(r["site_id"]), str(r["email_key"])): int(r["id"]) for r in rows}


async def update_users(db: BaseDBAsyncClient, updates: Sequence[UserUpdate], now: datetime) -> None:
    """Update matched end users in one executemany (S4, S6, S7 rename, link metadata)."""
    if not updates:
        return
    dialect = db.capabilities.dialect
    given: tuple[str, ...] = _KEPT_UNLESS_GIVEN
    with_extra = any(u.extra is not None for u in updates)
    if with_extra:
        given = (*_KEPT_UNLESS_GIVEN, *OPTIONAL_FIELDS)
    count = len(given) + len(_ALWAYS_SET) + 1
    marks = _placeholders(dialect, count)
    kept = [f'"{c}" = COALESCE({m}, "{c}")' for c, m in zip(given, marks, strict=False)]
    rest = marks[len(given) :]
    always = [f'"{c}" = {m}' for c, m in zip(_ALWAYS_SET, rest, strict=False)]
    sql = f'UPDATE "end_user" SET {", ".join(kept + always)} WHERE "id" = {marks[-1]}'  # noqa: S608
    stamp = _stamp(db, now)
    if with_extra:
        none = (None,) * len(OPTIONAL_FIELDS)
        rows = [
            [
                u.email,
                u.email_key,
                *u.fields,
                *(u.extra or none),
                "ENTRA",
                *u.link,
                stamp,
                stamp,
                u.id,
            ]
            for u in updates
        ]
    else:
        rows = [
            [u.email, u.email_key, *u.fields, "ENTRA", *u.link, stamp, stamp, u.id] for u in updates
        ]
    await db.execute_many(sql, rows)


async def insert_changes(
    db: BaseDBAsyncClient, run_id: int, account_id: int, rows: Sequence[ChangeRow]
) -> None:
    """Insert a batch's change-log rows in one executemany."""
    if not rows:
        return
    values: list[list[Any]] = [
        [
            run_id,
            account_id,
            r.action,
            r.entra_object_id,
            r.email,
            r.display_name,
            r.end_user_id,
            r.site_id,
            r.reason,
            changes_json(r.changes),
        ]
        for r in rows
    ]
    await db.execute_many(_insert_sql(db, "change_log_entry", _CHANGE_INSERT), values)


class ActivityUpdate(NamedTuple):
    """One end user's lifecycle columns set by a sync (issue 6), if they still hold `before_*`:
    a person's change made since the run loaded them (a MANUAL deactivation) wins."""

    id: int
    active: bool
    inactive_reason: str | None
    inactive_since: datetime | None
    before_active: bool
    before_reason: str | None


async def set_activity(
    db: BaseDBAsyncClient, updates: Sequence[ActivityUpdate], now: datetime
) -> None:
    """Mark end users inactive or active again in one executemany. `last_synced_at` moves with
    `updated_at`, so that a delta round does not take the write for a product edit (S6)."""
    if not updates:
        return
    m = _placeholders(db.capabilities.dialect, 8)
    sql = (
        f'UPDATE "end_user" SET "active" = {m[0]}, "inactive_reason" = {m[1]}, '  # noqa: S608
        f'"inactive_since" = {m[2]}, "updated_at" = {m[3]}, "last_synced_at" = {m[4]} '
        f'WHERE "id" = {m[5]} AND "active" = {m[6]} AND COALESCE("inactive_reason", \'\') = {m[7]}'
    )
    rows = [
        [
            u.active,
            u.inactive_reason,
            u.inactive_since,
            now,
            now,
            u.id,
            u.before_active,
            u.before_reason or "",
        ]
        for u in updates
    ]
    await db.execute_many(sql, rows)
