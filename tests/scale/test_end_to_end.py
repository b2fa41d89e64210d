"""The production shape on loopback: two API processes, two workers, PostgreSQL, Redis, the simulator.

A run started through API 1's GraphQL executes on a worker (the run records which: host:pid)
and its progress reaches a graphql-transport-ws subscriber of API 2 through Redis. Killing the
worker running a second run fails that run as interrupted (the other worker notices), the
subscriber of API 2 is told, and a retry succeeds. Every process is stopped however the test
ends; the database is dropped and the Redis keys deleted.
"""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import asyncpg
import httpx
import pytest
import websockets

from entra.cipher import generate_key
from schema.ids import decode_id
from simulator.registration import DEMO_APP
from tests.conftest import PG_ADMIN_DSN, _pg_reachable
from tests.scale.conftest import HEARTBEAT, REDIS_URL, STALE_AFTER, skip_or_fail
from tests.scale.processes import HOST, Child, Processes, entrasync_env, free_port

PROTOCOL = "graphql-transport-ws"
USERS = 5_000  # six pages of /users
TERMINAL = ("SUCCEEDED", "FAILED", "CANCELLED")
PROGRESS = (
    "subscription($id: ID!) { syncProgress(runId: $id) "
    "{ status phase fetched created errorMessage } }"
)


@pytest.fixture
async def pg_url() -> AsyncIterator[str]:
    """A throwaway PostgreSQL database (whatever ENTRASYNC_TEST_DATABASE says)."""
    if not await asyncio.to_thread(_pg_reachable):
        skip_or_fail("PostgreSQL")
    name = f"entrasync_e2e_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield f"{PG_ADMIN_DSN.rpartition('/')[0]}/{name}"
    finally:
        admin = await asyncpg.connect(PG_ADMIN_DSN)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


class Api:
    """One API process, called as a script would: GraphQL over HTTP with an admin key."""

    def __init__(self, child: Child, port: int) -> None:
        self.child = child
        self.url = f"http://{HOST}:{port}"
        self.ws_url = f"ws://{HOST}:{port}/graphql"

    async def gql(self, key: str, query: str, **variables: Any) -> dict[str, Any]:
        async with httpx.AsyncClient(base_url=self.url, timeout=30) as http:
            response = await http.post(
                "/graphql",
                json={"query": query, "variables": variables},
                headers={"Authorization": f"Bearer {key}"},
            )
        body: dict[str, Any] = response.json()
        assert response.status_code == 200 and "errors" not in body, body
        data: dict[str, Any] = body["data"]
        return data

    async def progress(self, key: str, run_id: str) -> AsyncIterator[dict[str, Any]]:
        """syncProgress(runId) over graphql-transport-ws, until the run ends."""
        async with websockets.connect(self.ws_url, subprotocols=[PROTOCOL]) as ws:  # type: ignore[list-item]
            init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {key}"}}
            await ws.send(json.dumps(init))
            assert json.loads(await ws.recv())["type"] == "connection_ack"
            payload = {"query": PROGRESS, "variables": {"id": run_id}}
            await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
            while True:
                message = json.loads(await ws.recv())
                if message["type"] == "complete":
                    return
                assert message["type"] == "next", message
                yield message["payload"]["data"]["syncProgress"]


async def _cli(env: dict[str, str], *args: str) -> str:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "api.cli",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, err.decode()
    return out.decode().strip()


async def _admin_key(env: dict[str, str], name: str) -> str:
    """`entrasync accounts create` and `api-keys create`: an account and its ADMIN key."""
    account = await _cli(env, "accounts", "create", "--name", name)
    return (await _cli(env, "api-keys", "create", "--account", account, "--role", "ADMIN")).split()[
        -1
    ]


async def _connect(api: Api, key: str) -> str:
    """A site, its SITE connection signed in (simulator's auto-accept), configured: its id."""
    data = await api.gql(
        key,
        'mutation { createSite(input: {name: "Everyone"}) { ... on SitePayload { site { id } } } }',
    )
    site = data["createSite"]["site"]["id"]
    data = await api.gql(
        key,
        "mutation($s: ID!) { startConnect(input: {scope: SITE, siteId: $s}) "
        "{ ... on StartConnectPayload { signInUrl } } }",
        s=site,
    )
    async with (
        aiohttp.ClientSession() as http,
        http.get(data["startConnect"]["signInUrl"], allow_redirects=False) as resp,
    ):
        assert resp.status in (302, 303), await resp.text()
        query = parse_qs(urlsplit(resp.headers["Location"]).query)
    data = await api.gql(
        key,
        "mutation($c: String!, $s: String!) { completeConnect(input: {code: $c, state: $s}) "
        "{ __typename ... on ConnectionPayload { connection { id } } } }",
        c=query["code"][0],
        s=query["state"][0],
    )
    connection: str = data["completeConnect"]["connection"]["id"]
    data = await api.gql(
        key,
        "mutation($c: ID!) { configureImport(input: {connectionId: $c, userTypes: [MEMBER, GUEST]}) "
        "{ __typename } }",
        c=connection,
    )
    assert data["configureImport"]["__typename"] == "ConfigureImportPayload", data
    return connection


async def _start(api: Api, key: str, connection: str) -> str:
    data = await api.gql(
        key,
        "mutation($c: ID!) { startSync(input: {connectionId: $c}) "
        "{ __typename ... on SyncRunPayload { run { id } alreadyRunning } } }",
        c=connection,
    )
    assert data["startSync"]["alreadyRunning"] is False, data
    run_id: str = data["startSync"]["run"]["id"]
    return run_id


async def _executed_by(db_url: str, run_id: str) -> str:
    pk = decode_id(run_id, "SyncRun")
    conn = await asyncpg.connect(db_url)
    try:
        worker: str = await conn.fetchval("SELECT worker FROM sync_run WHERE id = $1", pk)
    finally:
        await conn.close()
    return worker


async def _users_per_account(db_url: str) -> list[int]:
    """Each account's end users, counted by distinct Entra object id (a duplicate would show)."""
    conn = await asyncpg.connect(db_url)
    try:
        rows = await conn.fetch(
            "SELECT account_id, count(*) AS n, count(DISTINCT entra_object_id) AS d "
            "FROM end_user GROUP BY account_id ORDER BY account_id"
        )
    finally:
        await conn.close()
    assert all(r["n"] == r["d"] for r in rows), rows
    return [int(r["n"]) for r in rows]


async def _page_delay(sim_url: str, seconds: float) -> None:
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{sim_url}/_sim/faults", json={"page_delay": seconds}) as resp,
    ):
        resp.raise_for_status()


async def test_run_from_api_1_executes_on_a_worker_streams_to_api_2_and_survives_a_killed_worker(
    pg_url: str, tmp_path: Path
) -> None:
    if not await _redis_up():
        skip_or_fail("Redis")
    prefix = f"entrasync-e2e-{uuid.uuid4().hex[:8]}:"
    sim_port, ports = free_port(), (free_port(), free_port())
    sim_url = f"http://{HOST}:{sim_port}"
    env = entrasync_env(
        mode="production",
        database_url=pg_url,
        encryption_key=f"k1:{generate_key()}",
        redis_url=REDIS_URL,
        redis_prefix=prefix,
        workers="external",
        entra_client_id=DEMO_APP.client_id,
        entra_client_secret=DEMO_APP.client_secret,
        entra_authority_host=sim_url,
        graph_url=f"{sim_url}/v1.0",
        public_url="http://127.0.0.1:8000",  # the demo app's registered redirect
        run_heartbeat_seconds=HEARTBEAT,
        run_stale_after_seconds=STALE_AFTER,
        worker_shutdown_grace_seconds=0,
    )
    try:
        async with asyncio.timeout(110), Processes(tmp_path / "logs") as procs:
            await _cli(env, "migrate")
            _, *children = await asyncio.gather(
                procs.simulator(sim_port, users=USERS, page_delay=0.2),
                procs.api("api-1", env, ports[0]),
                procs.api("api-2", env, ports[1]),
                procs.worker("worker-1", env),
                procs.worker("worker-2", env),
            )
            api1, api2 = Api(children[0], ports[0]), Api(children[1], ports[1])
            workers = {w.pid: w for w in children[2:]}
            await _scenario(api1, api2, workers, env, pg_url, sim_url)
    finally:
        await _delete_keys(prefix)


async def _scenario(
    api1: Api,
    api2: Api,
    workers: dict[int, Child],
    env: dict[str, str],
    db_url: str,
    sim_url: str,
) -> None:
    # 1. A run started through API 1 executes on a worker; API 2's subscriber sees it through.
    key = await _admin_key(env, "First")
    connection = await _connect(api1, key)
    run_id = await _start(api1, key, connection)
    events = [event async for event in api2.progress(key, run_id)]

    assert events[-1]["status"] == "SUCCEEDED", events[-1]
    assert any(e["status"] == "RUNNING" and e["created"] > 0 for e in events), events
    assert events[-1]["fetched"] == USERS and events[-1]["created"] > USERS * 0.9
    runner = await _executed_by(db_url, run_id)
    host, _, pid = runner.rpartition(":")
    assert host and int(pid) in workers, runner
    pk = decode_id(run_id, "SyncRun")
    assert f"sync run {pk}: started on {runner}" in workers[int(pid)].output()
    for api in (api1, api2):
        assert f"sync run {pk}: started" not in api.child.output()

    # 2. Kill the worker running a second run (another account: a first, full import again).
    key2 = await _admin_key(env, "Second")
    connection2 = await _connect(api1, key2)
    await _page_delay(sim_url, 0.5)
    run2 = await _start(api1, key2, connection2)
    seen: list[dict[str, Any]] = []
    killed_after = None
    async for event in api2.progress(key2, run2):
        seen.append(event)
        if killed_after is None and event["status"] == "RUNNING" and event["fetched"] > 0:
            victim = workers.pop(int((await _executed_by(db_url, run2)).rpartition(":")[2]))
            victim.kill()
            await victim.wait()
            killed_after = event["fetched"]
            await _page_delay(sim_url, 0.0)
            # Listening on: the surviving worker fails the run, and API 2 is told.

    assert killed_after is not None and killed_after < USERS
    assert seen[-1]["status"] == "FAILED", seen[-3:]
    assert seen[-1]["errorMessage"].startswith("interrupted"), seen[-1]

    # 3. The retry succeeds, on the surviving worker, and repairs everything.
    retry = await _start(api1, key2, connection2)
    final = [event async for event in api2.progress(key2, retry)][-1]
    assert final["status"] == "SUCCEEDED", final
    (survivor,) = workers
    assert (await _executed_by(db_url, retry)).endswith(f":{survivor}")
    first, second = await _users_per_account(db_url)
    assert first == second == events[-1]["created"]  # nothing lost, nothing twice


async def _redis_up() -> bool:
    from tests.scale.conftest import redis_reachable

    return await redis_reachable(REDIS_URL)


async def _delete_keys(prefix: str) -> None:
    from redis.asyncio import Redis

    client = Redis.from_url(REDIS_URL)
    try:
        keys = [k async for k in client.scan_iter(match=f"{prefix}*")]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()
