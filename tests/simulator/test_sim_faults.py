"""Fault injection: scripted and random failures, slow pages, dropped connections, the request log."""

from __future__ import annotations

import time

import aiohttp
import pytest

from simulator.faults import Fault
from simulator.testing import GraphCaller


async def test_scripted_faults_come_in_order_with_retry_after(graph: GraphCaller) -> None:
    graph.sim.state.faults.script(
        "/v1.0/users", [Fault(status=429, retry_after=1.5), Fault(status=503), Fault(status=504)]
    )
    replies = [await graph.get("/users?$top=1") for _ in range(4)]
    assert [r.status for r in replies] == [429, 503, 504, 200]
    throttled = replies[0]
    assert throttled.headers["Retry-After"] == "1.5"
    assert throttled.body["error"]["code"] == "TooManyRequests"
    assert throttled.body["error"]["innerError"]["status"] == "429"
    log = graph.sim.state.requests
    assert [r.status for r in log] == [429, 503, 504, 200]
    assert log[0].retry_after == 1.5 and log[0].path == "/v1.0/users" and log[0].query == "$top=1"
    assert log[0].time <= log[1].time <= time.monotonic()


async def test_random_faults_are_reproducible_from_the_seed(graph: GraphCaller) -> None:
    faults = graph.sim.state.faults

    async def statuses() -> list[int]:
        return [(await graph.get("/users?$top=1")).status for _ in range(30)]

    faults.set_random(throttle_ratio=0.3, error_ratio=0.2, seed=7)
    first = await statuses()
    faults.set_random(throttle_ratio=0.3, error_ratio=0.2, seed=7)
    assert await statuses() == first
    assert {429, 200} <= set(first) and set(first) <= {200, 429, 503, 504}
    throttles = [r for r in graph.sim.state.requests if r.status == 429]
    assert all(r.retry_after is not None and 0.05 <= r.retry_after <= 0.5 for r in throttles)


async def test_page_delay_slows_every_graph_page(graph: GraphCaller) -> None:
    graph.sim.state.faults.page_delay = 0.2
    started = time.monotonic()
    await graph.get("/users?$top=1")
    assert time.monotonic() - started >= 0.2


async def test_a_dropped_connection_cuts_the_body(graph: GraphCaller) -> None:
    graph.sim.state.faults.script("/v1.0/users", [Fault(status=200, drop=True)])
    with pytest.raises(aiohttp.ClientPayloadError):
        await graph.get("/users?$top=50")
    assert (await graph.get("/users?$top=50")).status == 200
    assert [r.dropped for r in graph.sim.state.requests] == [True, False]


async def test_login_paths_fail_with_entra_shaped_bodies(graph: GraphCaller) -> None:
    sim = graph.sim
    sim.state.faults.script("/organizations/oauth2/v2.0/token", [Fault(status=503, retry_after=3)])
    async with aiohttp.ClientSession() as http:
        async with http.post(
            f"{sim.base_url}/organizations/oauth2/v2.0/token", data={}
        ) as response:
            body = await response.json()
    assert response.status == 503 and response.headers["Retry-After"] == "3"
    assert body["error"] == "temporarily_unavailable" and body["error_codes"] == [90033]
