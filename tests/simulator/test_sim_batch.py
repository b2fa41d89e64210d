"""The simulated `$batch`: limits, dependsOn, per-item status and throttling."""

from __future__ import annotations

from simulator.faults import Fault
from simulator.testing import GraphCaller


async def test_batch_answers_each_item(graph: GraphCaller) -> None:
    tenant = graph.sim.tenant("contoso.example")
    requests = [
        {"id": "1", "method": "GET", "url": "/users?$top=2&$select=id"},
        {"id": "2", "method": "GET", "url": f"/users/{tenant.admin_user_id}?$select=mail"},
        {"id": "3", "method": "GET", "url": "/groups/missing"},
        {
            "id": "4",
            "method": "GET",
            "url": "/users/$count",
            "headers": {"ConsistencyLevel": "eventual"},
        },
    ]
    reply = await graph.request("POST", "/$batch", json={"requests": requests})
    assert reply.status == 200
    by_id = {r["id"]: r for r in reply.body["responses"]}
    assert by_id["1"]["status"] == 200 and len(by_id["1"]["body"]["value"]) == 2
    assert by_id["2"]["body"]["mail"] == "admin@contoso.example"
    assert by_id["3"]["status"] == 404
    assert by_id["4"]["status"] == 200 and by_id["4"]["body"] == "MjAw"  # base64 of "200"


async def test_batch_limits(graph: GraphCaller) -> None:
    many = [{"id": str(n), "method": "GET", "url": "/users?$top=1"} for n in range(21)]
    assert (await graph.request("POST", "/$batch", json={"requests": many})).status == 400
    twins = [
        {"id": "a", "method": "GET", "url": "/users"},
        {"id": "A", "method": "GET", "url": "/users"},
    ]
    assert (await graph.request("POST", "/$batch", json={"requests": twins})).status == 400


async def test_failed_dependency_is_424(graph: GraphCaller) -> None:
    requests = [
        {"id": "1", "method": "GET", "url": "/users?$top=1000"},
        {"id": "2", "method": "GET", "url": "/users?$top=1", "dependsOn": ["1"]},
    ]
    reply = await graph.request("POST", "/$batch", json={"requests": requests})
    statuses = {r["id"]: r["status"] for r in reply.body["responses"]}
    assert statuses == {"1": 400, "2": 424}


async def test_items_are_throttled_individually(graph: GraphCaller) -> None:
    graph.sim.state.faults.script("/v1.0/users", [Fault(status=429, retry_after=2.5)])
    requests = [{"id": str(n), "method": "GET", "url": "/users?$top=1"} for n in range(3)]
    reply = await graph.request("POST", "/$batch", json={"requests": requests})
    assert reply.status == 200
    throttled = [r for r in reply.body["responses"] if r["status"] == 429]
    assert len(throttled) == 1 and throttled[0]["headers"]["Retry-After"] == "2.5"
    logged = [r for r in graph.sim.state.requests if r.batch_item is not None]
    assert sorted(r.status for r in logged) == [200, 200, 429]
