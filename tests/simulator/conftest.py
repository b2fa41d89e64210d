"""Fixtures for the simulator's tests: a running simulator, a Graph caller, msal sign-in."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator

import aiohttp
import pytest

from simulator.server import Simulator, run_simulator
from simulator.testing import GraphCaller, SignIn
from simulator.testing import sign_in as run_sign_in


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with run_simulator(auto_accept=True) as simulator:
        yield simulator


@pytest.fixture
async def graph(sim: Simulator) -> AsyncIterator[GraphCaller]:
    """Calls Graph with an app-only token of the default tenant (admin consent granted)."""
    tenant = sim.tenant("contoso.example")
    sim.state.grant_admin_consent(tenant)
    token = sim.state.issue_access_token(tenant, app_only=True)
    async with aiohttp.ClientSession() as session:
        yield GraphCaller(sim, session, token)


@pytest.fixture
def sign_in(sim: Simulator) -> SignIn:
    """msal's auth-code flow against `sim`: `await sign_in(tenant=..., scopes=..., **flow_kwargs)`."""
    return functools.partial(run_sign_in, sim)
