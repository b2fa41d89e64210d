"""The production-mode API: over httpx (bad input) and served by uvicorn on a loopback port
(the load smoke test)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import httpx
import pytest
import uvicorn
from pydantic import SecretStr

from api.app import create_app, server_options
from api.runtime import open_runtime
from api.settings import Settings
from entra.cipher import generate_key
from services.runtime import Runtime


@pytest.fixture
def load_settings(sim_settings: Settings) -> Settings:
    """Production mode wired to the simulator, rate limits at their defaults (per API key)."""
    defaults = Settings()
    return sim_settings.model_copy(
        update={
            "mode": "production",
            "encryption_key": SecretStr(f"k1:{generate_key()}"),
            "rate_limit_per_minute": defaults.rate_limit_per_minute,
            "rate_limit_burst": defaults.rate_limit_burst,
        }
    )


@pytest.fixture
async def load_server(load_settings: Settings) -> AsyncIterator[str]:
    """`http://127.0.0.1:PORT` of the app as `entrasync serve` runs it (server_options), with
    sync runs embedded in this process."""
    async with open_runtime(load_settings) as rt:
        app = create_app(load_settings, runtime=rt, manage_database=False)
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        config = uvicorn.Config(
            app, log_level="warning", lifespan="off", **server_options(load_settings)
        )
        server = uvicorn.Server(config)
        task = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started:  # noqa: ASYNC110 - uvicorn offers no event to wait on
            await asyncio.sleep(0.01)
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            server.should_exit = True
            await task
            sock.close()


@pytest.fixture
def prod_settings(sim_settings: Settings) -> Settings:
    """Production mode wired to the simulator; rate limits off (these tests send many requests
    with one key)."""
    return sim_settings.model_copy(
        update={
            "mode": "production",
            "encryption_key": SecretStr(f"k1:{generate_key()}"),
            "rate_limit_per_minute": 0,
            "rate_limit_unauthenticated_per_minute": 0,
        }
    )


@pytest.fixture
async def prod_runtime(prod_settings: Settings) -> AsyncIterator[Runtime]:
    async with open_runtime(prod_settings) as rt:
        yield rt


@pytest.fixture
async def prod_client(
    prod_settings: Settings, prod_runtime: Runtime
) -> AsyncIterator[httpx.AsyncClient]:
    """The production app over httpx (ASGI)."""
    app = create_app(prod_settings, runtime=prod_runtime, manage_database=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c
