"""Database wiring: Tortoise configuration, Aerich migrations per dialect, and the startup check."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aerich import Command
from tortoise import Tortoise, connections
from tortoise.context import TortoiseContext

MIGRATIONS_ROOT = Path(__file__).resolve().parent.parent / "migrations"


class DatabaseNotMigrated(RuntimeError):
    """The database lacks migrations that this code needs; `entrasync migrate` fixes it."""


def dialect_of(url: str) -> str:
    scheme = url.split(":", 1)[0]
    if scheme.startswith("sqlite"):
        return "sqlite"
    if scheme in {"postgres", "postgresql", "asyncpg", "psycopg"}:
        return "postgres"
    raise ValueError(f"unsupported database URL scheme {scheme!r}: use sqlite:// or postgres://")


def tortoise_config(url: str) -> dict[str, Any]:
    """Aerich's SQL is dialect-specific, so each dialect keeps its own migration folder."""
    if dialect_of(url) == "sqlite":
        path = url.split("://", 1)[1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # WAL (Tortoise's default) with synchronous=NORMAL: durable across crashes of the process,
        # and a commit no longer waits for a full disk sync (a third of a large import's time).
        if "?" not in url:
            url = f"{url}?synchronous=NORMAL"
    return {
        "connections": {"default": url},
        "apps": {
            "models": {
                "models": ["models", "aerich.models"],
                "default_connection": "default",
                "migrations": None,
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


def migrations_location(url: str) -> str:
    return str(MIGRATIONS_ROOT / dialect_of(url))


def _command(url: str) -> Command:
    return Command(
        tortoise_config=tortoise_config(url), app="models", location=migrations_location(url)
    )


async def migrate(url: str) -> list[str]:
    """Apply every pending migration; returns the versions applied."""
    # A context of its own: migrating never disturbs (nor depends on) an open database.
    async with TortoiseContext():
        command = _command(url)
        await command.init()
        applied: list[str] = await command.upgrade(run_in_transaction=True)
    return applied


def _version_files(url: str) -> list[str]:
    folder = Path(migrations_location(url)) / "models"
    return sorted(p.name for p in folder.glob("*.py") if p.name[0].isdigit())


async def pending_migrations(url: str) -> list[str]:
    """Migrations on disk that the open database has not applied (Tortoise must be initialised)."""
    files = _version_files(url)
    conn = connections.get("default")
    try:
        _, rows = await conn.execute_query("SELECT version FROM aerich WHERE app = 'models'")
    except Exception:  # no aerich table: nothing was ever migrated
        return files
    done = {row["version"] for row in rows}
    return [f for f in files if f not in done]


async def open_database(url: str, *, require_migrated: bool = True, shared: bool = False) -> None:
    """Initialise Tortoise; refuse a database that misses migrations (raises DatabaseNotMigrated).

    `shared` makes the connections visible to every task of the process, not only to tasks
    started from this one: uvicorn runs the lifespan in a task that request tasks do not
    descend from, and Tortoise 1.x keeps its context in a contextvar. Close with
    close_database(), which also clears that process-wide fallback.
    """
    await Tortoise.init(config=tortoise_config(url), _enable_global_fallback=shared)
    if require_migrated:
        missing = await pending_migrations(url)
        if missing:
            await close_database()
            raise DatabaseNotMigrated(
                f"the database is missing {len(missing)} migration(s) ({', '.join(missing)}); "
                "run `entrasync migrate` first"
            )


async def close_database() -> None:
    await Tortoise.close_connections()


async def make_migrations(url: str, name: str) -> str | None:
    """Generate the next migration for url's dialect from the models (developer tool)."""
    command = _command(url)
    folder = Path(migrations_location(url)) / "models"
    if url.startswith("sqlite"):
        # SQLite has no column comments: a changed enum's description (Tortoise writes the
        # members into it) is nothing to migrate there, where aerich would refuse it.
        from aerich.ddl.sqlite import SqliteDDL

        SqliteDDL.set_comment = lambda self, model, field_describe: ""  # type: ignore[method-assign]
    try:
        if not folder.exists() or not _version_files(url):
            await command.init_migrations(safe=True)
            return "init"
        await command.init(offline=True)
        result: str | None = await command.migrate(name=name, no_input=True, offline=True)
        return result
    finally:
        await connections.close_all()


if __name__ == "__main__":
    # Developer tool: `python -m api.db makemigrations NAME` writes the next migration for both
    # dialects. Aerich keeps dialect state in class attributes, so each dialect gets its own process.
    import asyncio
    import subprocess
    import sys

    if len(sys.argv) < 2 or sys.argv[1] not in {"makemigrations", "_one"}:
        raise SystemExit("usage: python -m api.db makemigrations [NAME]")
    if sys.argv[1] == "_one":
        print(sys.argv[2].split(":", 1)[0], asyncio.run(make_migrations(sys.argv[2], sys.argv[3])))
    else:
        label = sys.argv[2] if len(sys.argv) > 2 else "update"
        for target in ("sqlite://:memory:", "postgres://postgres@127.0.0.1:5432/test"):
            subprocess.run([sys.executable, "-m", "api.db", "_one", target, label], check=True)  # noqa: S603
