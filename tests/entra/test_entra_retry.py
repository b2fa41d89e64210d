"""R10 against the simulator's injected faults: throttling and transient errors ridden out, bounded."""

from __future__ import annotations

import itertools
from typing import Any

import aiohttp
import pytest

from entra.errors import GraphRequestError, GraphUnavailable
from entra.graph import GraphClient
from entra.transport import RetryPolicy
from entra.types import BatchRequest
from simulator.faults import Fault
from simulator.tenant import SimTenant
from tests.entra.simflow import SimToken

FAST = RetryPolicy(max_attempts=4, max_wait=2.0, total_budget=5.0, base_delay=0.02, max_backoff=0.1)


def _client(
    sim: Any, http: aiohttp.ClientSession, token: Any, retry: RetryPolicy = FAST
) -> GraphClient:
    return GraphClient(http, graph_url=sim.graph_url, token=token, retry=retry)


def _assert_waited_retry_after(records: list[Any]) -> None:
    """No request followed a throttled response before its Retry-After had passed."""
    for earlier, later in itertools.pairwise(records):
        if earlier.retry_after is not None:
            assert later.time - earlier.time >= earlier.retry_after, (earlier, later)


async def test_throttling_and_503_bursts_are_ridden_out_after_retry_after(
    sim: Any, tenant: SimTenant, http: aiohttp.ClientSession
) -> None:
    sim.state.faults.script(
        "/v1.0/users",
        [
            Fault(status=429, retry_after=0.3),
            Fault(status=503),
            Fault(status=429, retry_after=0.15),
        ],
    )
    async with _client(sim, http, SimToken(sim, tenant)) as graph:
        users = [u async for page in graph.iter_user_pages(top=20) for u in page]
    assert len(users) == len(tenant.users)
    records = [r for r in sim.state.requests if r.path == "/v1.0/users"]
    assert [r.status for r in records[:4]] == [429, 503, 429, 200]
    assert records[0].retry_after == pytest.approx(0.3)
    _assert_waited_retry_after(records)


async def test_throttling_mid_paging_resumes_from_the_same_next_link(
    sim: Any, tenant: SimTenant, http: aiohttp.ClientSession
) -> None:
    token = SimToken(sim, tenant)
    async with _client(sim, http, token) as graph:
        pages = graph.iter_user_pages(top=10)
        first = await anext(pages)
        sim.state.faults.script(
            "/v1.0/users", [Fault(status=429, retry_after=0.1), Fault(status=504)]
        )
        rest = [u async for page in pages for u in page]
    assert len(first) + len(rest) == len(tenant.users)
    records = [r for r in sim.state.requests if r.path == "/v1.0/users"]
    assert records[1].query == records[2].query == records[3].query  # the same nextLink
    _assert_waited_retry_after(records)


async def test_retries_exhausted_raise_graph_unavailable(
    sim: Any, tenant: SimTenant, http: aiohttp.ClientSession
) -> None:
    sim.state.faults.script("/v1.0/organization", [Fault(status=503, retry_after=0.05)] * 10)
    async with _client(sim, http, SimToken(sim, tenant)) as graph:
        with pytest.raises(GraphUnavailable) as info:
            await graph.organization()
    assert info.value.attempts == FAST.max_attempts and info.value.status == 503
    assert len([r for r in sim.state.requests if r.path == "/v1.0/organization"]) == 4


async def test_retry_after_longer_than_max_wait_gives_up_at_once(
    sim: Any, tenant: SimTenant, http: aiohttp.ClientSession
) -> None:
    sim.state.faults.script("/v1.0/organization", [Fault(status=429, retry_after=30)])
    async with _client(sim, http, SimToken(sim, tenant)) as graph:
        with pytest.raises(GraphUnavailable) as info:
            await graph.organization()
    assert info.value.retry_after == pytest.approx(30) and info.value.attempts == 1


async def test_dropped_connections_are_retried(
    sim: Any, tenant: SimTenant, http: aiohttp.ClientSession
) -> None:
    sim.state.faults.script("/v1.0/users", [Fault(status=200, drop=True)])
    async with _client(sim, http, SimToken(sim, tenant)) as graph:
        users = [u async for page in graph.iter_user_pages() for u in page]
    assert len(users) == len(tenant.users)


async def test_unreachable_graph_is_graph_unavailable(http: aiohttp.ClientSession) -> None:
    async def token(*, force_refresh: bool = False) -> str:
        return "unused"

    async with GraphClient(
        http, graph_url="http://127.0.0.1:9/v1.0", token=token, retry=FAST
    ) as graph:
        with pytest.raises(GraphUnavailable) as info:
            await graph.organization()
    assert info.value.status is None and info.value.attempts == FAST.max_attempts


async def test_one_forced_refresh_per_401_then_give_up(
    sim: Any, http: aiohttp.ClientSession
) -> None:
    calls: list[bool] = []

    async def rejected(*, force_refresh: bool = False) -> str:
        calls.append(force_refresh)
        return "not-a-token-the-simulator-issued"

    async with _client(sim, http, rejected) as graph:
        with pytest.raises(GraphRequestError) as info:
            await graph.organization()
    assert calls == [False, True] and info.value.status == 401


async def test_throttled_batch_items_are_sent_again_after_the_longest_retry_after(
    sim: Any, tenant: SimTenant, http: aiohttp.ClientSession
) -> None:
    ids = list(tenant.users)[:3]
    sim.state.faults.script(
        "/v1.0/users/", [Fault(status=429, retry_after=0.2), Fault(status=429, retry_after=0.1)]
    )
    async with _client(sim, http, SimToken(sim, tenant)) as graph:
        responses = await graph.batch(
            [BatchRequest(id=str(n), url=f"/users/{uid}?$select=id") for n, uid in enumerate(ids)]
        )
    assert [r.status for r in responses] == [200, 200, 200]
    items = [r for r in sim.state.requests if r.batch_item is not None]
    throttled = [r for r in items if r.status == 429]
    retried = items[len(ids) :]
    assert len(throttled) == 2 and len(retried) == 2
    assert min(r.time for r in retried) - max(r.time for r in throttled) >= 0.2
