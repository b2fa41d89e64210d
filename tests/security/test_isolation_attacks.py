"""A4 as an attack: account B's ADMIN key on account A's objects gets exactly what a never-existing
id gets, over every query, mutation, filter, subscription and cursor; A's rows never change."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
import websockets
from websockets.typing import Subprotocol

from schema.ids import encode_id
from schema.pagination import encode_cursor
from services.runtime import Runtime
from tests.factories import gql, make_user
from tests.security.attacks import ATTACKS, NEVER, Attack
from tests.security.conftest import Server
from tests.security.world import World, build_world, snapshot


async def _call(client: httpx.AsyncClient, key: str, query: str, variables: dict[str, Any]) -> Any:
    body = await gql(client, key, query, variables)
    assert body.pop("_status") == 200, body
    return body


@pytest.fixture
async def world(prod_runtime: Runtime) -> World:
    return await build_world(prod_runtime)


@pytest.mark.parametrize("attack", ATTACKS, ids=[a.name for a in ATTACKS])
async def test_a4_attack_on_another_accounts_object(
    attack: Attack, world: World, prod_client: httpx.AsyncClient
) -> None:
    before = await snapshot()
    key = world.b.admin_key
    foreign = await _call(prod_client, key, attack.query, attack.vars(world, True))
    missing = await _call(prod_client, key, attack.query, attack.vars(world, False))
    assert foreign == missing
    assert attack.expect(foreign), foreign
    assert await snapshot() == before


async def test_a4_the_victim_still_sees_its_objects(
    world: World, prod_client: httpx.AsyncClient
) -> None:
    """The attacks above fail because of the account, not because the objects are unreachable."""
    from tests.security.attacks import NODE

    key = world.a.admin_key
    for type_name, pk in (
        ("Site", world.a_site.id),
        ("EndUser", world.a_user.id),
        ("TenantConnection", world.a_conn.id),
        ("SyncRun", world.a_run.id),
    ):
        body = await _call(prod_client, key, NODE, {"id": encode_id(type_name, pk)})
        assert body["data"]["node"]["id"] == encode_id(type_name, pk)
    log = await _call(
        prod_client,
        key,
        "query($id: ID!) { changeLog(runId: $id) { edges { node { email } } } }",
        {"id": encode_id("SyncRun", world.a_run.id)},
    )
    assert len(log["data"]["changeLog"]["edges"]) == 2


LISTS = {
    "sites": "query($a: String) { sites(after: $a) { edges { node { id name } } } }",
    "endUsers": "query($a: String) { endUsers(after: $a) { edges { node { id email } } } }",
    "tenantConnections": "query($a: String) { tenantConnections(after: $a) { edges { node { id tenantName } } } }",
    "syncRuns": "query($a: String) { syncRuns(after: $a) { edges { node { id status } } } }",
}


@pytest.mark.parametrize("field", list(LISTS))
async def test_a4_cursor_crafted_into_victims_rows_lists_only_own_rows(
    field: str, world: World, prod_client: httpx.AsyncClient
) -> None:
    """Cursors are ids in base64: a cursor just before A's rows still pages B's rows only."""
    # More of B's rows after A's, so that "after A's row" has something of B's to show.
    await make_user(world.b_site, email="later@attacker-b.example")
    key = world.b.admin_key
    everything = await _call(prod_client, key, LISTS[field], {"a": None})
    own = [edge["node"] for edge in everything["data"][field]["edges"]]
    before = await snapshot()
    for position in (0, world.a_site.id, world.a_user.id, world.a_conn.id, world.a_run.id):
        crafted = await _call(prod_client, key, LISTS[field], {"a": encode_cursor(position)})
        got = [edge["node"] for edge in crafted["data"][field]["edges"]]
        # Exactly B's rows past that position (ids are global, so A's rows interleave with B's).
        from schema.ids import decode_id

        type_name = {
            "sites": "Site",
            "endUsers": "EndUser",
            "tenantConnections": "TenantConnection",
            "syncRuns": "SyncRun",
        }[field]
        assert got == [n for n in own if (decode_id(n["id"], type_name) or 0) > position]
    assert await snapshot() == before


async def test_a4_change_log_cursor_cannot_reach_victims_entries(
    world: World, prod_client: httpx.AsyncClient
) -> None:
    """B pages a change log it may read with a cursor before A's entries: B sees nothing of A's."""
    from models import ChangeAction, ChangeLogEntry, RunStatus, SyncRun

    b_run = await SyncRun.create(
        account_id=world.b.account.id, connection=world.b_conn, status=RunStatus.SUCCEEDED
    )
    await ChangeLogEntry.create(
        run=b_run, account_id=world.b.account.id, action=ChangeAction.SKIP, email="b@b.example"
    )
    query = "query($id: ID!, $a: String) { changeLog(runId: $id, after: $a) { edges { node { email } } } }"
    for after in (None, encode_cursor(0)):
        body = await _call(
            prod_client,
            world.b.admin_key,
            query,
            {"id": encode_id("SyncRun", b_run.id), "a": after},
        )
        assert [e["node"]["email"] for e in body["data"]["changeLog"]["edges"]] == ["b@b.example"]


PROGRESS = "subscription($id: ID!) { syncProgress(runId: $id) { runId status created } }"


async def _subscribe(server: Server, key: str, run_id: str) -> dict[str, Any]:
    async with websockets.connect(
        server.ws_url, subprotocols=[Subprotocol("graphql-transport-ws")]
    ) as ws:
        await ws.send(
            json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {key}"}})
        )
        assert json.loads(await asyncio.wait_for(ws.recv(), 5))["type"] == "connection_ack"
        await ws.send(
            json.dumps(
                {
                    "id": "1",
                    "type": "subscribe",
                    "payload": {"query": PROGRESS, "variables": {"id": run_id}},
                }
            )
        )
        answer: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), 5))
        return answer


async def test_a4_subscription_to_victims_run_gets_the_missing_run_error(
    world: World, prod_server: Server
) -> None:
    before = await snapshot()
    key = world.b.admin_key
    foreign = await _subscribe(prod_server, key, encode_id("SyncRun", world.a_run.id))
    missing = await _subscribe(prod_server, key, encode_id("SyncRun", NEVER))
    assert foreign == missing
    assert foreign["type"] == "next"
    assert foreign["payload"]["data"] is None
    assert [e["extensions"]["code"] for e in foreign["payload"]["errors"]] == ["NOT_FOUND"]
    own = await _subscribe(prod_server, world.a.admin_key, encode_id("SyncRun", world.a_run.id))
    assert own["payload"]["data"]["syncProgress"]["status"] == "SUCCEEDED"
    assert await snapshot() == before
