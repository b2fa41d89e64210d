"""The production-mode app under attack: over httpx (ASGI) and uvicorn on loopback (websockets).

Every test in this package also runs under the SQL audit (tests/security/sql_audit.py): each
statement that a request (or a websocket operation) makes on a tenant-owned table must carry the
account filter, or key on an id that the same request already checked against the account.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import httpx
import pytest
import uvicorn
from pydantic import SecretStr
from starlette.applications import Starlette

from api.app import create_app, server_options
from api.runtime import open_runtime
from api.settings import Settings
from entra.cipher import generate_key
from services.runtime import Runtime
from tests.security.sql_audit import SqlCapture, violations

# The encryption key of every production-mode test (a secret the fuzzer looks for in responses).
ENCRYPTION_KEY = generate_key()


@pytest.fixture(autouse=True)
def sql_audit() -> Iterator[SqlCapture]:
    """Capture the SQL of every request in this test and fail on an unscoped one."""
    logger = logging.getLogger("tortoise.db_client")
    capture = SqlCapture()
    old_level, old_propagate = logger.level, logger.propagate
    logger.setLevel(logging.DEBUG)
    # Only the audit sees the statements (they carry ciphertexts and hashes; and formatting
    # thousands of them into pytest's captured log would slow the fuzzer down).
    logger.propagate = False
    logger.addHandler(capture)
    try:
        yield capture
    finally:
        logger.removeHandler(capture)
        logger.setLevel(old_level)
        logger.propagate = old_propagate
    found = violations(capture.statements)
    assert not found, "unscoped SQL on tenant-owned tables:\n" + "\n".join(map(str, found))


@pytest.fixture
def prod_settings(sim_settings: Settings) -> Settings:
    """Production mode wired to the simulator; rate limits off unless a test turns them on."""
    return sim_settings.model_copy(
        update={
            "mode": "production",
            "encryption_key": SecretStr(f"k1:{ENCRYPTION_KEY}"),
            "rate_limit_per_minute": 0,
            "rate_limit_unauthenticated_per_minute": 0,
        }
    )


@pytest.fixture
async def prod_runtime(prod_settings: Settings) -> AsyncIterator[Runtime]:
    async with open_runtime(prod_settings) as rt:
        yield rt


@pytest.fixture
def prod_app(prod_settings: Settings, prod_runtime: Runtime) -> Starlette:
    return create_app(prod_settings, runtime=prod_runtime, manage_database=False)


@pytest.fixture
async def prod_client(prod_app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=prod_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


@dataclass
class Server:
    url: str  # http://127.0.0.1:PORT
    ws_url: str  # ws://127.0.0.1:PORT/graphql
    host: str
    port: int
    runtime: Runtime


@pytest.fixture
async def prod_server(
    prod_settings: Settings, prod_app: Starlette, prod_runtime: Runtime
) -> AsyncIterator[Server]:
    """The production app served by uvicorn as `entrasync serve` runs it (server_options)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        prod_app, log_level="warning", lifespan="off", **server_options(prod_settings)
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:  # noqa: ASYNC110 - uvicorn offers no event to wait on
        await asyncio.sleep(0.01)
    try:
        yield Server(
            url=f"http://127.0.0.1:{port}",
            ws_url=f"ws://127.0.0.1:{port}/graphql",
            host="127.0.0.1",
            port=port,
            runtime=prod_runtime,
        )
    finally:
        server.should_exit = True
        await task
        sock.close()
