"""Throwaway databases for the import benchmark, and what it measures inside them.

Fresh databases are clones of one migrated template per dialect (a file copy for SQLite,
`CREATE DATABASE ... TEMPLATE` for PostgreSQL); everything created is dropped at the end.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import shutil
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
from tortoise import connections

PG_SERVER = "postgres://postgres@127.0.0.1:5432"
PG_ADMIN_DSN = f"{PG_SERVER}/postgres"


# --- databases --------------------------------------------------------------------------------


class Databases:
    """Hands out fresh migrated databases of one dialect; `drop_all` removes every one of them."""

    def __init__(self, dialect: str, tmp: Path) -> None:
        self.dialect = dialect
        self._tmp = tmp
        self._tag = uuid.uuid4().hex[:8]
        self._made: list[str] = []
        self._template = ""
        self._count = 0

    def _name(self, label: str) -> str:
        return f"entrasync_bench_{self._tag}_{label}"

    def prepare(self) -> None:
        """Migrate the template once. Raises OSError/asyncpg errors when PostgreSQL is down."""
        if self.dialect == "sqlite":
            self._template = str(self._tmp / "template.db")
            _migrate(f"sqlite://{self._template}")
            return
        self._template = self._name("tpl")
        asyncio.run(_pg_admin(f'CREATE DATABASE "{self._template}"'))
        self._made.append(self._template)
        _migrate(f"{PG_SERVER}/{self._template}")

    def fresh(self, label: str) -> str:
        """The Tortoise URL of a new, empty, migrated database."""
        self._count += 1
        name = f"{label}_{self._count}"
        if self.dialect == "sqlite":
            path = self._tmp / f"{name}.db"
            shutil.copyfile(self._template, path)
            return f"sqlite://{path}"
        db = self._name(name)
        asyncio.run(_pg_admin(f'CREATE DATABASE "{db}" TEMPLATE "{self._template}"'))
        self._made.append(db)
        return f"{PG_SERVER}/{db}"

    def drop_all(self) -> None:
        """Drop every PostgreSQL database made (SQLite files go with the temporary directory)."""
        for db in reversed(self._made):
            try:
                asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'))
            except (OSError, asyncpg.PostgresError) as exc:
                logging.getLogger("bench").warning("could not drop %s: %s", db, exc)
        self._made.clear()


def _migrate(url: str) -> None:
    """In a process of its own: Aerich keeps dialect state in class attributes (see api/db.py),
    so migrating SQLite then PostgreSQL in one process fails."""
    code = "import asyncio, sys; from api.db import migrate; asyncio.run(migrate(sys.argv[1]))"
    root = Path(__file__).resolve().parent.parent
    subprocess.run([sys.executable, "-c", code, url], cwd=root, check=True, timeout=300)


async def _pg_admin(sql: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN_DSN, timeout=10)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def pg_reachable() -> bool:
    try:
        asyncio.run(_pg_admin("SELECT 1"))
    except (OSError, asyncpg.PostgresError):
        return False
    return True


# --- SQL statements, counted from Tortoise's own debug log ------------------------------------

_TABLE = re.compile(r'\b(?:FROM|INTO|UPDATE)\s+"?(\w+)"?', re.IGNORECASE)


@dataclass
class StatementCounts:
    """Calls into Tortoise's client (one per statement or executemany), by verb and table."""

    by_kind: Counter[str] = field(default_factory=Counter)
    calls: int = 0
    executemany_rows: int = 0

    def as_dict(self) -> dict[str, object]:
        return {
            "calls": self.calls,
            "executemany_rows": self.executemany_rows,
            "by_kind": dict(self.by_kind.most_common()),
        }


class _Counter(logging.Handler):
    """Reads the query from the record's arguments without formatting the message, so the
    bound values (a whole batch for executemany) are never turned into text."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.counts = StatementCounts()

    def emit(self, record: logging.LogRecord) -> None:
        args = record.args if isinstance(record.args, tuple) else ()
        if record.msg == "%s: %s" and len(args) == 2:
            query = str(args[0])
        elif isinstance(record.msg, str) and not record.msg.startswith(("Created", "Closed")):
            query = record.msg  # execute_script logs the script itself
        else:
            return
        verb = query.lstrip().split(None, 1)[0].upper() if query.strip() else "?"
        table = _TABLE.search(query)
        # The method that logged: execute_many binds a list of rows, the others one parameter list.
        rows = args[1] if record.funcName == "execute_many" and len(args) == 2 else None
        many = isinstance(rows, list)
        kind = f"{verb} {table.group(1) if table else '-'}" + (" (executemany)" if many else "")
        self.counts.by_kind[kind] += 1
        self.counts.calls += 1
        if isinstance(rows, list):
            self.counts.executemany_rows += len(rows)


@contextmanager
def counting_statements() -> Iterator[StatementCounts]:
    """Count what Tortoise sends inside the block (BEGIN/COMMIT are not logged by Tortoise)."""
    logger = logging.getLogger("tortoise.db_client")
    handler = _Counter()
    level, propagate = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False  # no other handler may format 100k-row parameter lists
    try:
        yield handler.counts
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.propagate = propagate


# --- rows written to end_user -----------------------------------------------------------------

_SQLITE_TRIGGERS = """
CREATE TABLE bench_writes (op TEXT PRIMARY KEY, n INTEGER NOT NULL);
INSERT INTO bench_writes VALUES ('INSERT', 0), ('UPDATE', 0), ('DELETE', 0);
CREATE TRIGGER bench_ins AFTER INSERT ON end_user
  BEGIN UPDATE bench_writes SET n = n + 1 WHERE op = 'INSERT'; END;
CREATE TRIGGER bench_upd AFTER UPDATE ON end_user
  BEGIN UPDATE bench_writes SET n = n + 1 WHERE op = 'UPDATE'; END;
CREATE TRIGGER bench_del AFTER DELETE ON end_user
  BEGIN UPDATE bench_writes SET n = n + 1 WHERE op = 'DELETE'; END;
"""
# Statement-level with transition tables: one count per statement, whether it writes one row
# (executemany runs the statement once per row) or a whole batch (INSERT ... SELECT unnest).
_PG_TRIGGERS = """
CREATE TABLE bench_writes (op TEXT PRIMARY KEY, n BIGINT NOT NULL);
INSERT INTO bench_writes VALUES ('INSERT', 0), ('UPDATE', 0), ('DELETE', 0);
CREATE FUNCTION bench_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE bench_writes SET n = n + (SELECT count(*) FROM changed) WHERE op = TG_OP;
  RETURN NULL;
END $$;
CREATE TRIGGER bench_ins AFTER INSERT ON end_user REFERENCING NEW TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION bench_count();
CREATE TRIGGER bench_upd AFTER UPDATE ON end_user REFERENCING NEW TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION bench_count();
CREATE TRIGGER bench_del AFTER DELETE ON end_user REFERENCING OLD TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION bench_count();
"""


async def install_write_triggers(dialect: str) -> None:
    """Row triggers that count every write to end_user, no-op updates included (costly: only in
    the instrumented pass)."""
    db = connections.get("default")
    await db.execute_script(_SQLITE_TRIGGERS if dialect == "sqlite" else _PG_TRIGGERS)


async def trigger_counts() -> dict[str, int]:
    db = connections.get("default")
    rows = await db.execute_query_dict("SELECT op, n FROM bench_writes")
    return {str(r["op"]): int(r["n"]) for r in rows}


async def row_snapshot(dialect: str, chunk: int = 10_000) -> dict[int, bytes]:
    """A digest of every end_user row by id, read in id order `chunk` rows at a time (bounded
    memory). On PostgreSQL the row version (xmin) is part of it, so even a write of identical
    values shows; on SQLite the engine's updated_at, set on every write, shows one."""
    db = connections.get("default")
    extra = ', xmin::text AS "bench_xmin"' if dialect == "postgres" else ""
    mark = "?" if dialect == "sqlite" else "$1"
    digests: dict[int, bytes] = {}
    last = -1
    while True:
        rows = await db.execute_query_dict(
            f'SELECT *{extra} FROM "end_user" WHERE "id" > {mark} ORDER BY "id" LIMIT {int(chunk)}',
            [last],
        )
        for r in rows:
            digests[int(r["id"])] = hashlib.blake2b(
                repr(sorted(r.items())).encode(), digest_size=16
            ).digest()
        if len(rows) < chunk:
            return digests
        last = int(rows[-1]["id"])


def rows_written(before: dict[int, bytes], after: dict[int, bytes]) -> dict[str, int]:
    changed = sum(1 for k, v in after.items() if k in before and before[k] != v)
    return {
        "inserted": sum(1 for k in after if k not in before),
        "updated": changed,
        "deleted": sum(1 for k in before if k not in after),
    }
