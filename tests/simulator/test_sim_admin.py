"""The `/_sim/` admin API and the command line."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from simulator.cli import build_tenants, parse_args, serve
from simulator.server import Simulator
from simulator.testing import GraphCaller


async def test_admin_api_changes_the_directory_and_faults(
    sim: Simulator, graph: GraphCaller
) -> None:
    base = f"{sim.base_url}/_sim"
    tenant = sim.tenant("contoso.example")
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{base}/tenants") as response:
            (listed,) = await response.json()
        assert listed["domain"] == "contoso.example" and listed["users"] == 200
        async with http.post(
            f"{base}/tenants/contoso.example/users", json={"displayName": "Ada"}
        ) as response:
            assert response.status == 201
            user_id = (await response.json())["id"]
        async with http.patch(
            f"{base}/tenants/{tenant.tenant_id}/users/{user_id}", json={"jobTitle": "CTO"}
        ) as response:
            assert (await response.json())["jobTitle"] == "CTO"
        async with http.delete(f"{base}/tenants/contoso.example/users/{user_id}") as response:
            assert response.status == 204
        assert user_id in tenant.deleted_users
        async with http.post(f"{base}/tenants/contoso.example/users/{user_id}/restore") as response:
            assert response.status == 200 and user_id in tenant.users
        group_id = next(iter(tenant.groups))
        async with http.post(
            f"{base}/tenants/contoso.example/groups/{group_id}/members", json={"id": user_id}
        ) as response:
            assert response.status == 204 and user_id in tenant.members[group_id]
        async with http.delete(
            f"{base}/tenants/contoso.example/groups/{group_id}/members/{user_id}"
        ) as response:
            assert response.status == 204 and user_id not in tenant.members[group_id]
        async with http.post(f"{base}/tenants/contoso.example/users/nobody/restore") as response:
            assert response.status == 404
        faults = {
            "script": [{"prefix": "/v1.0/users", "faults": [{"status": 429, "retry_after": 0.25}]}]
        }
        async with http.post(f"{base}/faults", json=faults) as response:
            assert (await response.json())["script"][0]["faults"][0]["retry_after"] == 0.25
        throttled = await graph.get("/users?$top=1")
        assert throttled.status == 429 and throttled.headers["Retry-After"] == "0.25"
        async with http.patch(
            f"{base}/config", json={"delta_page_size": 7, "auto_accept": False}
        ) as response:
            config = await response.json()
        assert config["delta_page_size"] == 7 and sim.state.auto_accept is False
        async with http.post(f"{base}/tenants/contoso.example/expire-delta-tokens") as response:
            assert response.status == 204 and tenant.delta_generation == 1
        async with http.get(f"{base}/requests") as response:
            log = await response.json()
        assert [r["status"] for r in log] == [429]


def test_cli_arguments() -> None:
    args = parse_args(["--tenants", "2", "--users", "30", "--seed", "3", "--auto-accept"])
    assert args.port == 8765 and args.auto_accept and args.page_delay == 0.0
    tenants = build_tenants(args)
    assert [t.domain for t in tenants] == ["northwind.example", "adatum.example"]


async def test_cli_serves_and_describes_the_tenants(capsys: pytest.CaptureFixture[str]) -> None:
    stop = asyncio.Event()
    stop.set()
    await serve(parse_args(["--port", "0", "--users", "20"]), stop)
    out = capsys.readouterr().out
    assert "entrasync simulator at http://127.0.0.1:" in out and "contoso.example" in out
