"""Shared fixtures: a real database per test (SQLite by default, PostgreSQL when asked), the app."""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import pytest
from pydantic import SecretStr
from tortoise import Tortoise, connections

from api.app import create_app
from api.db import migrate, tortoise_config
from api.runtime import open_runtime
from api.settings import Settings
from services.runtime import Runtime
from simulator.registration import DEMO_APP
from simulator.server import Simulator, run_simulator

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
    """The app without Microsoft configured (connect answers NotConfiguredError)."""
    async with open_runtime(settings) as rt:
        app = create_app(settings, runtime=rt, manage_database=False)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    """The Microsoft simulator on a loopback port, consent auto-accepted as a script would."""
    async with run_simulator(auto_accept=True) as simulator:
        yield simulator


@pytest.fixture
def sim_settings(settings: Settings, sim: Simulator) -> Settings:
    """Settings pointed at the simulator, as the demo does."""
    return settings.model_copy(
        update={
            "entra_client_id": DEMO_APP.client_id,
            "entra_client_secret": SecretStr(DEMO_APP.client_secret),
            "entra_authority_host": sim.base_url,
            "graph_url": sim.graph_url,
            "public_url": "http://127.0.0.1:8000",
        }
    )


@pytest.fixture
async def runtime(sim_settings: Settings) -> AsyncIterator[Runtime]:
    async with open_runtime(sim_settings) as rt:
        yield rt


@pytest.fixture
async def sim_client(sim_settings: Settings, runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    """The app wired to the simulator."""
    app = create_app(sim_settings, runtime=runtime, manage_database=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


@dataclass
class LiveServer:
    url: str  # http://127.0.0.1:PORT
    ws_url: str  # ws://127.0.0.1:PORT/graphql
    runtime: Runtime


@pytest.fixture
async def live_server(sim_settings: Settings, runtime: Runtime) -> AsyncIterator[LiveServer]:
    """The app served by uvicorn on a loopback port, for websocket clients."""
    import socket

    import uvicorn

    app = create_app(sim_settings, runtime=runtime, manage_database=False)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", ws="websockets-sansio", lifespan="off")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    # uvicorn exposes no event for "started", only a flag.
    while not server.started:  # noqa: ASYNC110
        await asyncio.sleep(0.01)
    try:
        yield LiveServer(
            url=f"http://127.0.0.1:{port}", ws_url=f"ws://127.0.0.1:{port}/graphql", runtime=runtime
        )
    finally:
        server.should_exit = True
        await task
        sock.close()
