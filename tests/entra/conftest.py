"""Fixtures for entra tests: a loopback simulator with one tenant, EntraAuth, a client session."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from entra.auth import EntraAuth
from entra.config import EntraConfig
from simulator.registration import DEMO_APP
from simulator.server import run_simulator
from simulator.tenant import SimTenant, generate_tenant


@pytest.fixture
def tenant() -> SimTenant:
    return generate_tenant(seed=1, users=60, profile="small", domain="contoso.example")


@pytest.fixture
async def sim(tenant: SimTenant) -> AsyncIterator[Any]:
    async with run_simulator(tenants=[tenant], auto_accept=True) as running:
        yield running


@pytest.fixture
def config(sim: Any) -> EntraConfig:
    return EntraConfig(
        client_id=DEMO_APP.client_id,
        client_secret=DEMO_APP.client_secret,
        authority_host=sim.base_url,
        graph_url=sim.graph_url,
    )


@pytest.fixture
async def auth(config: EntraConfig) -> AsyncIterator[EntraAuth]:
    async with EntraAuth(config) as entra_auth:
        yield entra_auth


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session
