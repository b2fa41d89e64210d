"""A live server with the simulator, an account with a connected and configured connection, and
the CLI run in-process (same event loop as the server) or as a subprocess."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from api.client import amain
from models import Classification, Site
from schema.ids import encode_id
from services.wizard import ImportSettings, MappingInput, configure_import
from simulator.server import Simulator
from tests.conftest import LiveServer
from tests.factories import Tenant, admin_caller, connect_tenant, make_account, make_site

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Result:
    code: int
    out: str
    err: str


@dataclass
class World:
    server: LiveServer
    sim: Simulator
    tenant: Tenant
    hq: Site
    conn_pk: int
    connection_id: str  # the global id the API shows
    env: dict[str, str] = field(default_factory=dict)  # for subprocesses


@pytest.fixture
async def world(live_server: LiveServer, sim: Simulator, monkeypatch: pytest.MonkeyPatch) -> World:
    """An ACCOUNT connection to the demo tenant, offices Seattle and (none) routed to Headquarters."""
    t = await make_account()
    hq = await make_site(t.account, "Headquarters")
    conn = await connect_tenant(live_server.runtime, t)
    await configure_import(
        live_server.runtime,
        await admin_caller(t),
        conn.id,
        ImportSettings(
            classification=Classification.OFFICE,
            mappings=(
                MappingInput("Seattle", site_id=hq.id),
                MappingInput("Undefined", site_id=hq.id),
            ),
            user_types=("MEMBER", "GUEST"),
        ),
    )
    monkeypatch.setenv("ENTRASYNC_URL", live_server.url)
    monkeypatch.setenv("ENTRASYNC_KEY", t.admin_key)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENTRASYNC_")}
    env |= {"ENTRASYNC_URL": live_server.url, "ENTRASYNC_KEY": t.admin_key}
    return World(live_server, sim, t, hq, conn.id, encode_id("TenantConnection", conn.id), env)


Cli = Callable[..., Awaitable[Result]]


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Cli:
    """`await cli("sync", id)` runs `entrasync client sync id` in this process and event loop."""

    async def run(*argv: str) -> Result:
        capsys.readouterr()
        code = await amain(list(argv))
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


async def run_process(args: list[str], env: dict[str, str], limit: float = 30) -> Result:
    """A subprocess, awaited without blocking the event loop that serves the live server."""
    proc = await asyncio.create_subprocess_exec(
        *args,
        env=env,
        cwd=ROOT,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), limit)
    assert proc.returncode is not None
    return Result(proc.returncode, out.decode(), err.decode())


CLIENT = [sys.executable, "-m", "api.cli", "client"]
