"""OWASP GraphQL attacks over graphql-transport-ws on the production server (uvicorn, loopback):
authentication in connection_init, protocol abuse, malformed frames, and the same query guards
as HTTP."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
import websockets
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from tests.factories import Tenant, make_account
from tests.security.conftest import Server

PROTOCOL = "graphql-transport-ws"


@pytest.fixture
async def tenant() -> Tenant:
    return await make_account()


async def _connect(server: Server) -> Any:
    return await websockets.connect(server.ws_url, subprotocols=[Subprotocol(PROTOCOL)])


async def _init(ws: Any, key: str | None) -> dict[str, Any]:
    payload = {"Authorization": f"Bearer {key}"} if key else {}
    await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
    return await _recv(ws)


async def _recv(ws: Any) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), 5))
    return message


async def _closed_with(ws: Any) -> tuple[int, str]:
    """Read until the server closes; the close code and reason it sent."""
    try:
        while True:
            await asyncio.wait_for(ws.recv(), 5)
    except ConnectionClosed as closed:
        assert closed.rcvd is not None, "the client, not the server, closed"
        return closed.rcvd.code, closed.rcvd.reason


async def _subscribe(ws: Any, query: str, variables: dict[str, Any] | None = None) -> None:
    payload = {"query": query, "variables": variables or {}}
    await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))


async def _still_serving(server: Server, tenant: Tenant) -> None:
    ws = await _connect(server)
    assert (await _init(ws, tenant.admin_key))["type"] == "connection_ack"
    await ws.close()


@pytest.mark.parametrize("key", [None, "es_000000000000_guess", "Bearer-less"])
async def test_connection_init_without_a_valid_key_closes_4403(
    prod_server: Server, key: str | None
) -> None:
    ws = await _connect(prod_server)
    await ws.send(
        json.dumps({"type": "connection_init", "payload": {"Authorization": key} if key else {}})
    )
    assert await _closed_with(ws) == (4403, "Forbidden")


async def test_subscribe_before_connection_init_closes_4401(
    prod_server: Server, tenant: Tenant
) -> None:
    ws = await _connect(prod_server)
    await _subscribe(ws, "subscription { syncRuns { runId } }")
    assert await _closed_with(ws) == (4401, "Unauthorized")


async def test_second_connection_init_closes_4429(prod_server: Server, tenant: Tenant) -> None:
    ws = await _connect(prod_server)
    assert (await _init(ws, tenant.admin_key))["type"] == "connection_ack"
    await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
    assert await _closed_with(ws) == (4429, "Too many initialisation requests")


async def test_legacy_graphql_ws_protocol_is_not_spoken(prod_server: Server) -> None:
    ws = await websockets.connect(prod_server.ws_url, subprotocols=[Subprotocol("graphql-ws")])
    assert ws.subprotocol is None
    assert await _closed_with(ws) == (4406, "Subprotocol not acceptable")


MALFORMED: list[tuple[str | bytes, str]] = [
    ("not json at all", "WebSocket message must be valid JSON"),
    (b"\x00\x01binary", "WebSocket message type must be text"),
    ("[1, 2, 3]", "unknown or malformed message"),
    ("42", "unknown or malformed message"),
    ('{"payload": {}}', "unknown or malformed message"),
    ('{"type": "hack"}', "unknown or malformed message"),
    ('{"type": "connection_init", "payload": [1]}', "`connection_init` payload must be an object"),
    (
        '{"type": "subscribe", "payload": {"query": "{ viewer { role } }"}}',
        "`subscribe` needs an `id` string",
    ),
    (
        '{"type": "subscribe", "id": 7, "payload": {"query": "{ viewer { role } }"}}',
        "`subscribe` needs an `id` string",
    ),
    (
        '{"type": "subscribe", "id": "1", "payload": "{ viewer { role } }"}',
        "`subscribe` payload: the request must be a JSON object with a `query`",
    ),
    (
        '{"type": "subscribe", "id": "1", "payload": {"query": 1}}',
        "`subscribe` payload: `query` must be a string",
    ),
    (
        '{"type": "subscribe", "id": "1", "payload": {"query": "{ viewer { role } }", "variables": [1]}}',
        "`subscribe` payload: `variables` must be an object or null",
    ),
    ('{"type": "complete"}', "`complete` needs an `id` string"),
    ('{"type": "ping", "payload": "x"}', "`ping` payload must be an object"),
]


@pytest.mark.parametrize(
    ("frame", "reason"),
    MALFORMED,
    ids=[
        "non-json",
        "binary",
        "json-array",
        "json-number",
        "no-type",
        "unknown-type",
        "init-payload-list",
        "subscribe-without-id",
        "subscribe-numeric-id",
        "subscribe-payload-string",
        "subscribe-query-number",
        "subscribe-variables-list",
        "complete-without-id",
        "ping-payload-string",
    ],
)
async def test_malformed_frame_closes_4400_and_the_server_keeps_serving(
    prod_server: Server, tenant: Tenant, frame: str | bytes, reason: str
) -> None:
    ws = await _connect(prod_server)
    assert (await _init(ws, tenant.admin_key))["type"] == "connection_ack"
    await ws.send(frame)
    assert await _closed_with(ws) == (4400, reason)
    await _still_serving(prod_server, tenant)


async def test_frame_over_the_size_limit_closes_1009(prod_server: Server, tenant: Tenant) -> None:
    ws = await _connect(prod_server)
    assert (await _init(ws, tenant.admin_key))["type"] == "connection_ack"
    await _subscribe(ws, "{ viewer { role } }", {"x": "x" * 30_000})
    code, _ = await _closed_with(ws)
    assert code == 1009  # message too big
    await _still_serving(prod_server, tenant)


async def _first_answer(
    server: Server, tenant: Tenant, query: str, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    ws = await _connect(server)
    assert (await _init(ws, tenant.admin_key))["type"] == "connection_ack"
    await _subscribe(ws, query, variables)
    answer = await _recv(ws)
    await ws.close()
    return answer


async def test_introspection_over_websocket_is_refused(prod_server: Server, tenant: Tenant) -> None:
    answer = await _first_answer(prod_server, tenant, "query { __schema { queryType { name } } }")
    assert answer["type"] == "error" and answer["id"] == "1"
    assert [e["message"] for e in answer["payload"]] == [
        "GraphQL introspection has been disabled, but the requested query contained the field '__schema'.",
        "GraphQL introspection has been disabled, but the requested query contained the field 'queryType'.",
    ]


async def test_field_suggestions_are_off_over_websocket(
    prod_server: Server, tenant: Tenant
) -> None:
    answer = await _first_answer(
        prod_server, tenant, 'subscription { syncProgres(runId: "x") { status } }'
    )
    assert answer["type"] == "error"
    assert [e["message"] for e in answer["payload"]] == [
        "Cannot query field 'syncProgres' on type 'Subscription'."
    ]


async def test_deep_subscription_is_refused(prod_server: Server, tenant: Tenant) -> None:
    query = "subscription { syncRuns { " + "a { " * 20 + "b" + " }" * 20 + " } }"
    answer = await _first_answer(prod_server, tenant, query)
    assert answer["type"] == "error"
    assert answer["payload"][0]["message"] == "'anonymous' exceeds maximum operation depth of 12"


async def test_alias_overloading_over_websocket_is_refused(
    prod_server: Server, tenant: Tenant
) -> None:
    query = "{ " + " ".join(f"a{i}: viewer {{ role }}" for i in range(16)) + " }"
    answer = await _first_answer(prod_server, tenant, query)
    assert answer == {
        "id": "1",
        "type": "error",
        "payload": [{"message": "16 aliases found. Allowed: 15"}],
    }


async def test_syntax_error_in_subscribe_closes_4400(prod_server: Server, tenant: Tenant) -> None:
    ws = await _connect(prod_server)
    assert (await _init(ws, tenant.admin_key))["type"] == "connection_ack"
    await _subscribe(ws, "subscription {")
    assert await _closed_with(ws) == (4400, "Syntax Error: Expected Name, found <EOF>.")
    ws = await _connect(prod_server)
    assert (await _init(ws, tenant.admin_key))["type"] == "connection_ack"
    await _subscribe(ws, "{ " + "a " * 2100 + "}")
    assert await _closed_with(ws) == (
        4400,
        "Syntax Error: Document contains more than 2000 tokens. Parsing aborted.",
    )


async def test_subscriptions_per_socket_are_capped(prod_server: Server, tenant: Tenant) -> None:
    ws = await _connect(prod_server)
    assert (await _init(ws, tenant.admin_key))["type"] == "connection_ack"
    for i in range(21):
        await ws.send(
            json.dumps(
                {
                    "id": f"s{i}",
                    "type": "subscribe",
                    "payload": {"query": "subscription { syncRuns { runId } }"},
                }
            )
        )
    assert await _recv(ws) == {
        "id": "s20",
        "type": "error",
        "payload": [{"message": "Subscription limit reached"}],
    }
    await ws.close()


async def test_subscription_errors_are_masked(prod_server: Server, tenant: Tenant) -> None:
    """A subscription to a malformed run id: the typed NOT_FOUND error, nothing internal."""
    answer = await _first_answer(
        prod_server,
        tenant,
        "subscription($r: ID!) { syncProgress(runId: $r) { status } }",
        {"r": "%%%"},
    )
    assert answer == {
        "id": "1",
        "type": "next",
        "payload": {
            "data": None,
            "errors": [{"message": "sync run not found", "extensions": {"code": "NOT_FOUND"}}],
        },
    }
