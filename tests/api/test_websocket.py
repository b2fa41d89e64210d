"""Subscriptions over graphql-transport-ws: auth in connection_init (A5), live run progress (R2, A3)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import websockets
from websockets.exceptions import ConnectionClosed

from models import EndUser, RunStatus, SyncRun
from schema.ids import encode_id
from services.events import account_runs_topic, run_topic
from services.sync.progress import snapshot
from services.wizard import ImportSettings, configure_import
from tests.conftest import LiveServer
from tests.factories import admin_caller, connect_tenant, make_account, make_site

PROTOCOL = "graphql-transport-ws"
PROGRESS = (
    "subscription($id: ID!) { syncProgress(runId: $id) { runId status phase created percent } }"
)


async def _recv(ws: Any) -> dict[str, Any]:
    return json.loads(await asyncio.wait_for(ws.recv(), timeout=5))  # type: ignore[no-any-return]


async def _open(server: LiveServer, key: str | None) -> Any:
    ws = await websockets.connect(server.ws_url, subprotocols=[PROTOCOL])
    payload = {"Authorization": f"Bearer {key}"} if key else {}
    await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
    return ws


async def _run(account_id: int, **kw: Any) -> SyncRun:
    from models import ConnectionScope, TenantConnection

    conn = await TenantConnection.create(account_id=account_id, scope=ConnectionScope.ACCOUNT)
    return await SyncRun.create(account_id=account_id, connection=conn, **kw)


async def test_a5_connection_init_without_a_valid_key_is_rejected(live_server: LiveServer) -> None:
    for key in (None, "es_wrong_key"):
        ws = await _open(live_server, key)
        try:
            await _recv(ws)
            raise AssertionError("expected the socket to close")
        except ConnectionClosed as closed:
            assert closed.rcvd is not None and closed.rcvd.code == 4403


async def test_only_the_graphql_transport_ws_protocol_is_spoken(live_server: LiveServer) -> None:
    try:
        ws = await websockets.connect(live_server.ws_url, subprotocols=["graphql-ws"])
        await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        await _recv(ws)
        raise AssertionError("the legacy protocol must be refused")
    except (
        ConnectionClosed,
        websockets.exceptions.InvalidHandshake,
        websockets.exceptions.NegotiationError,
    ):
        pass


async def test_r2_late_subscriber_gets_current_state_then_live_events(
    live_server: LiveServer,
) -> None:
    t = await make_account()
    run = await _run(t.account.id, status=RunStatus.RUNNING, phase="users", created=7, total=100)
    ws = await _open(live_server, t.tech_key)
    assert (await _recv(ws))["type"] == "connection_ack"
    await ws.send(
        json.dumps(
            {
                "id": "1",
                "type": "subscribe",
                "payload": {"query": PROGRESS, "variables": {"id": encode_id("SyncRun", run.id)}},
            }
        )
    )
    first = await _recv(ws)
    assert first["type"] == "next"
    assert first["payload"]["data"]["syncProgress"]["created"] == 7
    assert first["payload"]["data"]["syncProgress"]["status"] == "RUNNING"
    # The run goes on (as the engine would report it) and finishes.
    bus = live_server.runtime.bus
    run.created = 40
    await bus.publish(run_topic(run.id), snapshot(run))
    run.status, run.created = RunStatus.SUCCEEDED, 93
    await bus.publish(run_topic(run.id), snapshot(run))
    seen = [await _recv(ws), await _recv(ws)]
    assert [m["payload"]["data"]["syncProgress"]["created"] for m in seen] == [40, 93]
    assert seen[-1]["payload"]["data"]["syncProgress"]["percent"] == 100.0
    assert (await _recv(ws)) == {"id": "1", "type": "complete"}
    await ws.close()


async def test_a4_subscribing_to_another_accounts_run_looks_like_a_missing_run(
    live_server: LiveServer,
) -> None:
    a, b = await make_account(), await make_account()
    run = await _run(a.account.id, status=RunStatus.RUNNING)
    answers = []
    for run_id in (encode_id("SyncRun", run.id), encode_id("SyncRun", 10**6)):
        ws = await _open(live_server, b.admin_key)
        await _recv(ws)
        await ws.send(
            json.dumps(
                {
                    "id": "x",
                    "type": "subscribe",
                    "payload": {"query": PROGRESS, "variables": {"id": run_id}},
                }
            )
        )
        answers.append(await _recv(ws))
        await ws.close()
    assert answers[0] == answers[1]
    assert answers[0]["type"] == "error" or "errors" in answers[0].get("payload", {})


async def test_a3_sync_runs_subscription_sees_only_own_account(live_server: LiveServer) -> None:
    a, b = await make_account(), await make_account()
    ws = await _open(live_server, a.tech_key)
    await _recv(ws)
    await ws.send(
        json.dumps(
            {
                "id": "r",
                "type": "subscribe",
                "payload": {"query": "subscription { syncRuns { runId status } }"},
            }
        )
    )
    bus = live_server.runtime.bus
    for _ in range(50):  # wait until the subscription is registered
        if bus.subscriber_count(account_runs_topic(a.account.id)):  # type: ignore[attr-defined]
            break
        await asyncio.sleep(0.02)
    other = await _run(b.account.id, status=RunStatus.RUNNING)
    mine = await _run(a.account.id, status=RunStatus.RUNNING)
    await bus.publish(account_runs_topic(b.account.id), snapshot(other))
    await bus.publish(account_runs_topic(a.account.id), snapshot(mine))
    got = await _recv(ws)
    assert got["payload"]["data"]["syncRuns"]["runId"] == encode_id("SyncRun", mine.id)
    await ws.close()


async def test_r2_a_real_import_streams_progress_to_a_websocket_client(
    live_server: LiveServer,
) -> None:
    """startSync over HTTP, then every batch over graphql-transport-ws until SUCCEEDED."""
    t = await make_account()
    site = await make_site(t.account, "Everyone")
    rt = live_server.runtime
    conn = await connect_tenant(rt, t, scope="SITE", site=site)
    await configure_import(
        rt, await admin_caller(t), conn.id, ImportSettings(user_types=("MEMBER", "GUEST"))
    )
    async with httpx.AsyncClient(base_url=live_server.url) as http:
        started = await http.post(
            "/graphql",
            json={
                "query": "mutation($c: ID!) { startSync(input: {connectionId: $c}) { ... on SyncRunPayload { run { id } } } }",
                "variables": {"c": encode_id("TenantConnection", conn.id)},
            },
            headers={"Authorization": f"Bearer {t.admin_key}"},
        )
    run_id = started.json()["data"]["startSync"]["run"]["id"]
    ws = await _open(live_server, t.tech_key)
    assert (await _recv(ws))["type"] == "connection_ack"
    await ws.send(
        json.dumps(
            {
                "id": "p",
                "type": "subscribe",
                "payload": {"query": PROGRESS, "variables": {"id": run_id}},
            }
        )
    )
    statuses: list[str] = []
    created: list[int] = []
    while True:
        message = await _recv(ws)
        if message["type"] == "complete":
            break
        progress = message["payload"]["data"]["syncProgress"]
        statuses.append(progress["status"])
        created.append(progress["created"])
    await ws.close()
    assert statuses[-1] == "SUCCEEDED"
    assert created == sorted(created) and created[-1] > 0
    assert await EndUser.filter(site_id=site.id).count() == created[-1]
