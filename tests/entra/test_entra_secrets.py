"""C3: no token, code, verifier or secret ever shows up in an exception, a repr or a log record."""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
import pytest

from entra.auth import EntraAuth
from entra.errors import EntraError
from entra.graph import GraphClient
from entra.tokens import DelegatedTokenSource
from entra.transport import RetryPolicy
from simulator.faults import Fault
from simulator.registration import DEMO_APP
from simulator.tenant import SimTenant
from tests.entra.simflow import start_and_follow

CANARY = "canary-token-7f3e9b1c5d2a4e6f8a0b"
FAST = RetryPolicy(max_attempts=2, base_delay=0.01, max_backoff=0.02)


async def test_no_secret_reaches_errors_reprs_or_logs(
    auth: EntraAuth,
    http: aiohttp.ClientSession,
    tenant: SimTenant,
    sim: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)  # msal's and aiohttp's own debug output included
    seen: list[object] = []

    async def collect(coro: Any) -> None:
        try:
            await coro
        except EntraError as exc:
            seen.append(exc)

    start, params = await start_and_follow(auth, http, str(tenant.admin["userPrincipalName"]))
    signed = await auth.complete_sign_in(start.flow, params)
    await collect(auth.complete_sign_in(start.flow, params))  # replayed code
    await collect(auth.complete_sign_in(start.flow, {**params, "state": "forged"}))
    source = DelegatedTokenSource(
        auth,
        token_cache=signed.token_cache,
        home_account_id=signed.home_account_id,
        tenant_id=signed.tenant_id,
    )
    async with GraphClient(http, graph_url=sim.graph_url, token=source, retry=FAST) as graph:
        sim.state.faults.script("/v1.0/users", [Fault(status=429, retry_after=0.05)])
        [u async for page in graph.iter_user_pages() for u in page]
        sim.state.expire_access_tokens()
        await graph.organization()  # 401, refresh, retry
        sim.state.faults.script("/v1.0/organization", [Fault(status=503)] * 3)
        await collect(graph.organization())
        sim.state.revoke_refresh_tokens(tenant)
        sim.state.expire_access_tokens()
        await collect(graph.organization())
    seen += [start, signed, source, auth]

    async def canary(*, force_refresh: bool = False) -> str:
        return CANARY

    async with GraphClient(http, graph_url=sim.graph_url, token=canary, retry=FAST) as graph:
        await collect(graph.organization())

    assert len([s for s in seen if isinstance(s, EntraError)]) == 5
    grants = sim.state.grants
    secrets = {
        CANARY,
        DEMO_APP.client_secret,
        start.flow["code_verifier"],
        params["code"],
        *grants.access,
        *grants.refresh,
    }
    texts = [caplog.text, *(r.getMessage() for r in caplog.records)]
    texts += [str(s) for s in seen] + [repr(s) for s in seen]
    for secret in secrets:
        for text in texts:
            assert secret not in text
