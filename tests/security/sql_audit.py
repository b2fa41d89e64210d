"""SQL audit (A4): every statement a request makes on a tenant-owned table is scoped to the account.

Statements are captured from Tortoise's `tortoise.db_client` DEBUG logger, which logs each query
with its parameters, and grouped by the request that made them: services.logctx.request_id, a
context variable set per HTTP request and per websocket (all the operations of one socket count
as one request), which the tasks a request starts inherit. Statements made outside a request
(test set-up through the services, table snapshots) and by sync-run tasks (`sync-run-N`: the sync
engine, which acts on a run the request already scoped and is audited by its own tests) are not
judged.

The rule. A statement that reads or writes a tenant-owned table (TENANT_TABLES) passes when:

1. INSERT: it sets `account_id` (every tenant-owned row records its owner).
2. SELECT, UPDATE, DELETE: the top level of its WHERE clause (a conjunction: no OR outside
   parentheses) constrains `account_id`; or
3. the top level of its WHERE clause constrains a key of an already scoped row: `id` of the
   table itself, or a parent key (`connection_id`, `active_connection_id`, `run_id`, `site_id`),
   with values that an earlier statement of the same request constrained by `id` under rule 2 on
   that parent table. This is the shape of `Model.save()` and `Model.delete()` after a scoped
   `get`, and of child look-ups right after a scoped parent look-up. It proves the key was checked
   against the account in this request, not that the check found a row: the services raise
   NotFound when it does not; or
4. it matches an entry of ALLOWED, each with its reason.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass, field
from typing import Any

from services.logctx import request_id

TENANT_TABLES = frozenset(
    {
        "site",
        "end_user",
        "tenant_connection",
        "sync_run",
        "change_log_entry",
        "import_mapping",
        "sign_in_request",
        "api_key",
    }
)
# Key columns that point at a tenant-owned parent row, and that parent's table.
PARENT_KEYS = {
    "connection_id": "tenant_connection",
    "active_connection_id": "tenant_connection",
    "run_id": "sync_run",
    "site_id": "site",
}

# (verb, table, columns of the WHERE's top level) -> why it needs no account filter.
ALLOWED: dict[tuple[str, str, frozenset[str]], str] = {
    ("SELECT", "api_key", frozenset({"prefix", "revoked_at"})): (
        "authentication: the presented key is what establishes the account"
    ),
}


@dataclass(frozen=True, slots=True)
class Statement:
    request: str | None
    task: str
    sql: str
    values: tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class Violation:
    statement: Statement
    why: str

    def __str__(self) -> str:
        s = self.statement
        return f"  [{s.request}] {self.why}: {s.sql} -- {list(s.values)!r}"


class SqlCapture(logging.Handler):
    """A logging handler that keeps each statement with the request (and task) that made it."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.statements: list[Statement] = []

    def emit(self, record: logging.LogRecord) -> None:
        args = record.args
        if not isinstance(args, tuple) or len(args) != 2 or not isinstance(args[0], str):
            return  # connection open/close messages, scripts
        sql, values = str(args[0]), args[1]
        try:
            task = asyncio.current_task()
        except RuntimeError:
            task = None
        self.statements.append(
            Statement(
                request=request_id.get(),
                task=task.get_name() if task else "",
                sql=sql,
                values=tuple(values) if isinstance(values, list | tuple) else (),
            )
        )


_TABLE = re.compile(r'\b(?:FROM|JOIN|UPDATE|INTO)\s+"?(\w+)"?', re.IGNORECASE)
_PLACEHOLDER = re.compile(r"\?|\$(\d+)")
# A condition on a column: "col"=?, "table"."col" IN ($1,$2), "col" IS NULL, "col">?, "col" LIKE ?
_CONDITION = re.compile(
    r'(?:"\w+"\.)?"(\w+)"\s*(?:=|<>|!=|>=|<=|>|<|\bNOT\s+IN\b|\bIN\b|\bI?LIKE\b|\bIS\b)'
    r"\s*(?:NOT\s+)?(\((?:\s*(?:\?|\$\d+)\s*,?)*\)|\?|\$\d+|NULL)?",
    re.IGNORECASE,
)
# Only these operators pin a column to the bound values.
_PINNING = re.compile(r'"\s*(?:=|\bIN\b)', re.IGNORECASE)


def _verb(sql: str) -> str:
    return sql.lstrip().split(None, 1)[0].upper() if sql.strip() else ""


def _where(sql: str) -> tuple[str, int] | None:
    """The WHERE clause's text (up to ORDER BY / GROUP BY / LIMIT / RETURNING) and its offset."""
    match = re.search(r"\bWHERE\b", sql, re.IGNORECASE)
    if match is None:
        return None
    start = match.end()
    end = re.search(r"\b(ORDER BY|GROUP BY|LIMIT|OFFSET|RETURNING)\b", sql[start:], re.IGNORECASE)
    return sql[start : start + end.start()] if end else sql[start:], start


def _placeholder_values(sql: str, values: tuple[Any, ...]) -> dict[int, Any]:
    """Position in `sql` of each placeholder -> the value bound to it."""
    out: dict[int, Any] = {}
    ordinal = 0
    for m in _PLACEHOLDER.finditer(sql):
        index = int(m.group(1)) - 1 if m.group(1) else ordinal
        ordinal += 1
        if 0 <= index < len(values):
            out[m.start()] = values[index]
    return out


def _top_level(where: str) -> tuple[list[tuple[str, int, int]], bool]:
    """Conditions at parenthesis depth 0 as (column, start, end), and whether an OR is there;
    `end` is `start` for conditions that do not pin the column to bound values (IS NULL, >, LIKE)."""
    depth = 0
    depth_at: list[int] = []
    for ch in where:
        if ch == "(":
            depth += 1
        depth_at.append(depth)
        if ch == ")":
            depth -= 1
    conditions = [
        (m.group(1), m.start(), m.end() if _PINNING.search(m.group(0)) else m.start())
        for m in _CONDITION.finditer(where)
        if depth_at[m.start()] == 0
    ]
    has_or = any(depth_at[m.start()] == 0 for m in re.finditer(r"\bOR\b", where, re.IGNORECASE))
    return conditions, has_or


@dataclass
class _Request:
    vouched: dict[str, set[Any]] = field(default_factory=dict)


def check(statement: Statement, scoped: dict[str, set[Any]]) -> str | None:
    """Why `statement` breaks the rule (None when it keeps it); records ids it scopes."""
    sql = statement.sql
    verb = _verb(sql)
    tables = {t.lower() for t in _TABLE.findall(sql)} & TENANT_TABLES
    if not tables:
        return None
    if verb == "INSERT":
        head = sql.split("VALUES", 1)[0]
        return None if '"account_id"' in head else "INSERT without account_id"
    if verb not in ("SELECT", "UPDATE", "DELETE"):
        return f"unexpected {verb} on a tenant-owned table"
    found = _where(sql)
    if found is None:
        return "no WHERE clause"
    where, offset = found
    if where.strip() == "1=0":
        return None  # an empty IN list: reads and writes nothing
    conditions, has_or = _top_level(where)
    if has_or:
        return "OR at the top level of the WHERE clause"
    bound = _placeholder_values(sql, statement.values)
    by_column: dict[str, list[Any]] = {}
    for column, start, end in conditions:
        values = [v for pos, v in bound.items() if offset + start <= pos < offset + end]
        by_column.setdefault(column, []).extend(values)
    columns = frozenset(by_column)
    if len(tables) > 1:
        # Joins: every tenant table must be scoped on its own (none of our services joins).
        return "a join across tenant-owned tables"
    (table,) = tables
    if "account_id" in columns:
        if "id" in by_column:
            scoped.setdefault(table, set()).update(by_column["id"])
        return None
    for column, values in by_column.items():
        parent = table if column == "id" else PARENT_KEYS.get(column)
        if parent is not None and values and set(values) <= scoped.get(parent, set()):
            return None
    if (verb, table, columns) in ALLOWED:
        return None
    return f"{verb} on {table} without account_id (keys {sorted(columns)})"


def violations(statements: list[Statement]) -> list[Violation]:
    """Judge the statements of each request in order; see the module docstring for the rule."""
    requests: dict[str, _Request] = {}
    out: list[Violation] = []
    for s in statements:
        if s.request is None or s.task.startswith("sync-run-"):
            continue
        state = requests.setdefault(s.request, _Request())
        if (why := check(s, state.vouched)) is not None:
            out.append(Violation(s, why))
    return out
