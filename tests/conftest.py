"""Shared fixtures: a real database per test (SQLite by default, PostgreSQL when asked), the app."""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from tortoise import Tortoise, connections

from api.app import create_app
from api.db import migrate, tortoise_config
from api.settings import Settings

PG_ADMIN_DSN = os.environ.get("ENTRASYNC_TEST_PG", "postgres://postgres@127.0.0.1:5432/test")
BACKEND = os.environ.get("ENTRASYNC_TEST_DATABASE", "sqlite")
TABLES_KEEP = {"aerich"}


def _pg_reachable() -> bool:
    async def probe() -> bool:
        try:
            conn = await asyncpg.connect(PG_ADMIN_DSN, timeout=3)
        except (OSError, asyncpg.PostgresError):
            return False
        await conn.close()
        return True

    return asyncio.run(probe())


@pytest.fixture(scope="session")
def database_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated database for the session: a SQLite file to copy, or a throwaway PG database."""
    if BACKEND == "postgres":
        if not _pg_reachable():
            if os.environ.get("CI"):
                pytest.fail("PostgreSQL is not reachable and CI is set")
            pytest.skip("PostgreSQL not reachable")
        name = f"entrasync_test_{uuid.uuid4().hex[:10]}"
        base, _, _ = PG_ADMIN_DSN.rpartition("/")

        async def create() -> None:
            conn = await asyncpg.connect(PG_ADMIN_DSN)
            await conn.execute(f'CREATE DATABASE "{name}"')
            await conn.close()

        async def drop() -> None:
            conn = await asyncpg.connect(PG_ADMIN_DSN)
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await conn.close()

        asyncio.run(create())
        url = f"{base}/{name}"
        try:
            asyncio.run(migrate(url))
            yield url
        finally:
            asyncio.run(drop())
    else:
        path = tmp_path_factory.mktemp("db") / "template.db"
        asyncio.run(migrate(f"sqlite://{path}"))
        yield str(path)


@pytest.fixture
async def database_url(database_template: str, tmp_path: Path) -> AsyncIterator[str]:
    """Tortoise opened on a clean, migrated database for this test."""
    if BACKEND == "postgres":
        url = database_template
    else:
        copy = tmp_path / "test.db"
        shutil.copyfile(database_template, copy)
        url = f"sqlite://{copy}"
    await Tortoise.init(config=tortoise_config(url))
    try:
        yield url
    finally:
        if BACKEND == "postgres":
            conn = connections.get("default")
            _, rows = await conn.execute_query(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            )
            names = [r["tablename"] for r in rows if r["tablename"] not in TABLES_KEEP]
            if names:
                quoted = ", ".join(f'"{n}"' for n in names)
                await conn.execute_script(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE")
        await connections.close_all()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(database_url=database_url, data_dir=tmp_path, mode="development")


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, manage_database=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c
