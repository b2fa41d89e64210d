"""A live server wired to a simulator whose consent page waits for a person to click Accept."""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from pydantic import SecretStr

from api.app import create_app, server_options
from api.runtime import open_runtime
from api.settings import Settings
from models import Site, TenantConnection
from services.runtime import Runtime
from simulator.registration import DEMO_APP, AppRegistration
from simulator.server import Simulator, run_simulator
from simulator.tenant import SimTenant, generate_tenant
from tests.factories import Tenant, connect_tenant

CHROMIUM = Path(os.environ.get("ENTRASYNC_CHROMIUM", "/usr/bin/chromium"))
# The flags the machine notes ask for: no sandbox as root, no calls to Google's services.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]


def require_browser() -> None:
    """Skip without Chromium or Playwright, except in CI, where the browser test must run."""
    missing = []
    if not CHROMIUM.exists():
        missing.append(f"Chromium ({CHROMIUM}; `apt-get install chromium`)")
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        missing.append("Playwright (`pip install -e '.[dev]'`)")
    if not missing:
        return
    reason = "the browser test needs " + " and ".join(missing)
    if os.environ.get("CI"):
        pytest.fail(reason + ", and CI is set")
    pytest.skip(reason)


@dataclass
class ConsoleServer:
    url: str  # http://127.0.0.1:PORT
    sim: Simulator
    tenant: SimTenant
    rt: Runtime  # the server's own runtime, for tests that prepare state through the services


@pytest.fixture
async def console_server(settings: Settings) -> AsyncIterator[ConsoleServer]:
    """entrasync on a loopback port, its Microsoft a simulator that shows the consent page."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    app_reg = AppRegistration(
        client_id=DEMO_APP.client_id,
        client_secret=DEMO_APP.client_secret,
        redirect_uris=[f"{url}/oauth/callback"],
        display_name="entrasync",
    )
    tenant = generate_tenant(seed=1, users=120, domain="contoso.example", name="Contoso")
    async with run_simulator(tenants=[tenant], apps=[app_reg], auto_accept=False) as sim:
        live = settings.model_copy(
            update={
                "entra_client_id": app_reg.client_id,
                "entra_client_secret": SecretStr(app_reg.client_secret),
                "entra_authority_host": sim.base_url,
                "graph_url": sim.graph_url,
                "public_url": url,
            }
        )
        async with open_runtime(live) as rt:
            app = create_app(live, runtime=rt, manage_database=False)
            config = uvicorn.Config(
                app, log_level="warning", lifespan="off", **server_options(live)
            )
            server = uvicorn.Server(config)
            task = asyncio.create_task(server.serve(sockets=[sock]))
            while not server.started:  # noqa: ASYNC110 (uvicorn offers no started event)
                await asyncio.sleep(0.01)
            try:
                yield ConsoleServer(url=url, sim=sim, tenant=tenant, rt=rt)
            finally:
                server.should_exit = True
                await task
                sock.close()


async def connected_site(server: ConsoleServer, tenant: Tenant, site: Site) -> TenantConnection:
    """A CONNECTED SITE connection of `tenant` to the simulated tenant, signed in without a
    person (the simulator accepts the consent page by itself for this set-up only)."""
    server.sim.state.auto_accept = True
    try:
        return await connect_tenant(
            server.rt, tenant, scope="SITE", site=site, login_hint="admin@contoso.example"
        )
    finally:
        server.sim.state.auto_accept = False
