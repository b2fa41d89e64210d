"""Load: a few hundred API clients (queries, mutations, subscriptions) while a 20,000-user import runs.

Run from the repository root, venv active:

    python -m bench.load_test [--clients 300] [--seconds 20] [--users 20000] [--think 0.5]
                              [--postgres postgres://postgres@127.0.0.1:5432/test]
                              [--redis redis://127.0.0.1:6379/0] [--quick]

Processes, all on 127.0.0.1: the Microsoft simulator (`python -m simulator`, one tenant of
`--users` users), the API (`entrasync serve`: the real app in production mode, uvicorn, the run
executed embedded in the API process as a default deployment does; with `--redis`, in an
`entrasync worker` process instead, as README "Running in production" advises), and this one,
the clients.
Each database (a SQLite file; with `--postgres` also a throwaway PostgreSQL database on that
server) gets two phases, each on a fresh database and a fresh server process:

1. *baseline*: connect the tenant and configure the import through the API (startConnect,
   completeConnect, directoryValues, configureImport: offices to new sites, members and
   guests), then startSync and wait for the run to end, no other client;
2. *load*: the same, with `--clients` clients started first. Each has an ADMIN API key of its
   own (so the per-key rate limit stays at its defaults, 600/min with a burst of 100, and never
   refuses a client that behaves), creates a site and an end user of its own, then loops:
   a weighted mix of queries (endUsers pages and searches, sites, tenantConnections, syncRuns)
   and mutations (createSite, updateEndUser on its own user), with a random think time of
   0..2x`--think` seconds between operations. Every third client also holds a websocket
   (graphql-transport-ws) subscribed to syncRuns and, once the import is started, to
   syncProgress of its run. The load lasts `--seconds` after startSync, and at least until
   the run has ended.

In both phases the driver also sends GET /healthz every 0.25 s (no database, no GraphQL): its
latency is how long the API's event loop kept a request waiting. Clients drop idle keep-alive
connections after 3 s, before uvicorn does (5 s), so no request races a closing connection.

Reported: p50/p99 latency per operation kind and by when requests were sent, errors (HTTP status other than 200, GraphQL
errors, typed mutation errors, transport failures, subscription errors, and ERROR lines in the
server's log), subscription events, the run's status and its duration (its own startedAt ->
finishedAt) with and without load. Exits 1 on any error or when an import does not SUCCEED.
Never a timed assertion. `--quick`: 30 clients, 3 s, 2,000 users (a smoke run).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
PROTOCOL = "graphql-transport-ws"
# A request that takes longer than this counts as an error (a stuck server, not a slow one).
REQUEST_TIMEOUT = 60.0
# A run that has not ended after this long is stuck: the phase stops and reports it.
RUN_TIMEOUT = 900.0
# Bounded loops: no client sends more operations than this, whatever the duration.
MAX_OPERATIONS = 100_000
# The driver's GET /healthz (no database) while the clients run: the event loop's own delay.
PROBE_EVERY = 0.25
# Seconds a client keeps an idle connection: less than uvicorn's timeout_keep_alive (5 s).
KEEPALIVE = 3.0
# Every WS_EVERY-th client holds a websocket with the two subscriptions.
WS_EVERY = 3
PAGE = 50
SEARCHES = ("an", "son", "li", "ma", "er", "jo", "ez", "ki")
TERMINAL = frozenset({"SUCCEEDED", "FAILED", "CANCELLED"})

END_USERS = (
    "query($first: Int!, $after: String) { endUsers(first: $first, after: $after) {"
    " edges { node { id email firstName lastName source site { id name } } }"
    " pageInfo { hasNextPage endCursor } } }"
)
SEARCH = (
    "query($s: String!) { endUsers(first: 20, filter: {search: $s}) {"
    " edges { node { id email firstName lastName } } } }"
)
SITES = "query { sites(first: 50) { edges { node { id name } } pageInfo { hasNextPage } } }"
CONNECTIONS = (
    "query { tenantConnections { edges { node { id status tenantName"
    " lastRun { id status phase fetched created percent } } } } }"
)
RUNS = (
    "query { syncRuns(first: 20) { edges { node { id status phase mode fetched created"
    " updated percent startedAt finishedAt } } } }"
)
CREATE_SITE = (
    "mutation($n: String!) { createSite(input: {name: $n}) { __typename"
    " ... on SitePayload { site { id name } } ... on Error { message } } }"
)
CREATE_USER = (
    "mutation($s: ID!, $e: String!) { createEndUser(input: {siteId: $s, email: $e,"
    ' firstName: "Load", lastName: "Client"}) { __typename'
    " ... on EndUserPayload { endUser { id } } ... on Error { message } } }"
)
UPDATE_USER = (
    "mutation($id: ID!, $j: String!) { updateEndUser(input: {id: $id, jobTitle: $j}) {"
    " __typename ... on EndUserPayload { endUser { id jobTitle } } ... on Error { message } } }"
)
RUN_STATE = (
    "query($id: ID!) { node(id: $id) { ... on SyncRun { id status phase fetched created"
    " errorMessage startedAt finishedAt } } }"
)
START_CONNECT = (
    "mutation($hint: String) { startConnect(input: {scope: ACCOUNT, loginHint: $hint}) {"
    " __typename ... on StartConnectPayload { signInUrl connection { id } } ... on Error { message } } }"
)
COMPLETE_CONNECT = (
    "mutation($c: String!, $s: String!) { completeConnect(input: {code: $c, state: $s}) {"
    " __typename ... on ConnectionPayload { connection { id status } } ... on Error { message } } }"
)
DIRECTORY_VALUES = (
    "query($c: ID!) { directoryValues(connectionId: $c, classification: OFFICE) { __typename"
    " ... on DirectoryValues { values { value userCount } } ... on Error { message } } }"
)
CONFIGURE = (
    "mutation($input: ConfigureImportInput!) { configureImport(input: $input) { __typename"
    " ... on Error { message } } }"
)
START_SYNC = (
    "mutation($c: ID!) { startSync(input: {connectionId: $c}) { __typename"
    " ... on SyncRunPayload { run { id } } ... on Error { message } } }"
)
SUB_PROGRESS = "subscription($id: ID!) { syncProgress(runId: $id) { runId status phase fetched created percent } }"
SUB_RUNS = "subscription { syncRuns { runId status phase fetched created } }"

# (kind, weight): reads dominate, as at a helpdesk; about a third are writes.
MIX: tuple[tuple[str, int], ...] = (
    ("endUsers page", 25),
    ("endUsers search", 10),
    ("sites", 10),
    ("tenantConnections", 10),
    ("syncRuns", 10),
    ("createSite", 10),
    ("updateEndUser", 25),
)


class LoadError(RuntimeError):
    """The set-up through the API failed (not a load error: nothing could be measured)."""


# --- measurements ---------------------------------------------------------------------------


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    # (sent at, seconds, kind) of every successful request; sent at is time.monotonic()
    timeline: list[tuple[float, float, str]] = field(default_factory=list)
    # GET /healthz every PROBE_EVERY s by the driver: (sent at, seconds), no database involved
    probes: list[tuple[float, float]] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    events: Counter[str] = field(default_factory=Counter)  # subscription -> `next` messages
    subscribed: Counter[str] = field(default_factory=Counter)
    completed: Counter[str] = field(default_factory=Counter)  # subscription -> `complete`
    progress_final: Counter[str] = field(default_factory=Counter)  # last syncProgress status

    def ok(self, kind: str, sent: float, seconds: float) -> None:
        self.latencies.setdefault(kind, []).append(seconds)
        self.timeline.append((sent, seconds, kind))

    def error(self, kind: str, reason: str) -> None:
        self.errors[f"{kind}: {reason}"] += 1


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@dataclass(frozen=True, slots=True)
class Target:
    """A running API with an account whose tenant is connected and configured."""

    url: str  # http://127.0.0.1:PORT
    admin_key: str
    client_keys: list[str]
    connection_id: str  # global id

    @property
    def graphql(self) -> str:
        return self.url + "/graphql"

    @property
    def ws(self) -> str:
        return "ws" + self.url.removeprefix("http") + "/graphql"


@dataclass
class PhaseResult:
    clients: int
    run_id: str
    status: str
    error_message: str
    fetched: int
    created: int
    run_seconds: float  # the run's startedAt -> finishedAt, as the server recorded them
    wall_seconds: float  # startSync sent -> the end seen by polling (0.25 s granularity)
    load_seconds: float  # startSync sent -> the clients stopped
    stats: Stats
    began: float = 0.0  # time.monotonic() when startSync was sent

    @property
    def requests(self) -> int:
        return sum(len(v) for v in self.stats.latencies.values())


# --- one GraphQL operation over HTTP --------------------------------------------------------


async def call(
    http: aiohttp.ClientSession,
    target: Target,
    key: str,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    kind: str,
    stats: Stats | None = None,
) -> dict[str, Any] | None:
    """POST one operation; its data, or None after counting the failure in `stats`.

    A failure is anything a client could not use: a transport error or timeout, a status other
    than 200, GraphQL errors, or a root field answered with a typed error (`...Error`).
    Without `stats` (set-up calls), a failure raises LoadError instead.
    """
    sent = time.monotonic()
    start = time.perf_counter()
    reason: str | None = None
    data: dict[str, Any] | None = None
    try:
        async with http.post(
            target.graphql,
            json={"query": query, "variables": variables or {}},
            headers={"Authorization": f"Bearer {key}"},
            timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT),
        ) as resp:
            body = await resp.read()
            status = resp.status
    except (aiohttp.ClientError, TimeoutError) as exc:
        reason = f"transport {type(exc).__name__}"
    else:
        elapsed = time.perf_counter() - start
        if status != 200:
            reason = f"HTTP {status}" + (" (rate limited)" if status == 429 else "")
        else:
            try:
                payload = json.loads(body)
            except ValueError:
                payload = {"errors": [{"message": "response is not JSON"}]}
            if payload.get("errors"):
                reason = "GraphQL error: " + str(payload["errors"][0].get("message"))[:120]
            else:
                data = payload["data"]
                root = next(iter(data.values())) if data else None
                typename = root.get("__typename", "") if isinstance(root, dict) else ""
                if str(typename).endswith("Error"):
                    assert isinstance(root, dict)
                    reason = f"{typename}: {str(root.get('message'))[:120]}"
                    data = None
    if reason is not None:
        if stats is None:
            raise LoadError(f"{kind}: {reason}")
        stats.error(kind, reason)
        return None
    if stats is not None:
        stats.ok(kind, sent, elapsed)
    return data


# --- set-up through the API, as an admin would ------------------------------------------------


async def sign_in(url: str) -> dict[str, str]:
    """The admin's browser at the simulator's consent page (auto-accept): the redirect's query."""
    from urllib.parse import parse_qs, urlsplit

    async with aiohttp.ClientSession() as http, http.get(url, allow_redirects=False) as resp:
        if resp.status not in (302, 303):
            raise LoadError(f"sign-in answered {resp.status}: {(await resp.text())[:300]}")
        location = resp.headers["Location"]
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


async def connect_and_configure(
    http: aiohttp.ClientSession, url: str, admin_key: str, login_hint: str | None = None
) -> str:
    """Connect the tenant (ACCOUNT scope) and configure its import; returns the connection id.

    Offices (Undefined too) each to a new site, members and guests, no group filter.
    Raises LoadError when a step is refused.
    """
    target = Target(url, admin_key, [], "")
    started = await call(
        http, target, admin_key, START_CONNECT, {"hint": login_hint}, kind="set-up"
    )
    assert started is not None
    payload = started["startConnect"]
    params = await sign_in(payload["signInUrl"])
    done = await call(
        http,
        target,
        admin_key,
        COMPLETE_CONNECT,
        {"c": params["code"], "s": params["state"]},
        kind="set-up",
    )
    assert done is not None
    connection_id = str(done["completeConnect"]["connection"]["id"])
    values = await call(
        http, target, admin_key, DIRECTORY_VALUES, {"c": connection_id}, kind="set-up"
    )
    assert values is not None
    offices = [v["value"] for v in values["directoryValues"]["values"]]
    configuration = {
        "connectionId": connection_id,
        "classification": "OFFICE",
        "mappings": [{"value": v, "newSiteName": f"Office {v}"} for v in offices],
        "userTypes": ["MEMBER", "GUEST"],
    }
    await call(http, target, admin_key, CONFIGURE, {"input": configuration}, kind="set-up")
    return connection_id


# --- clients ---------------------------------------------------------------------------------


@dataclass
class Shared:
    """What the driver tells the clients: when to stop, which run to follow, who is ready."""

    stop: asyncio.Event = field(default_factory=asyncio.Event)
    run_id: asyncio.Future[str] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )
    ready: set[int] = field(default_factory=set)
    all_ready: asyncio.Event = field(default_factory=asyncio.Event)
    clients: int = 0

    def one_ready(self, n: int) -> None:
        """Client `n` has its site and user (or gave up trying)."""
        self.ready.add(n)
        if len(self.ready) >= self.clients:
            self.all_ready.set()


async def client(
    n: int, target: Target, key: str, stats: Stats, shared: Shared, *, think: float, seed: int
) -> None:
    """One API user: set up its own site and end user, then operations until told to stop."""
    rng = random.Random(seed)
    # One keep-alive connection, as one client; idle connections are dropped before uvicorn
    # drops them (timeout_keep_alive, 5 s), or a request sent as the server closes one fails.
    connector = aiohttp.TCPConnector(limit=1, keepalive_timeout=KEEPALIVE)
    async with aiohttp.ClientSession(connector=connector) as http:
        watcher = (
            asyncio.create_task(subscriber(target, key, stats, shared), name=f"ws-{n}")
            if n % WS_EVERY == 0
            else None
        )
        try:
            await _operate(n, http, target, key, stats, shared, rng, think)
        except Exception as exc:  # a client bug must show as an error, not end the run
            stats.error("client", repr(exc)[:120])
        finally:
            shared.one_ready(n)
            if watcher is not None:
                await watcher


async def _operate(
    n: int,
    http: aiohttp.ClientSession,
    target: Target,
    key: str,
    stats: Stats,
    shared: Shared,
    rng: random.Random,
    think: float,
) -> None:
    tag = uuid.uuid4().hex[:6]
    made = await call(
        http, target, key, CREATE_SITE, {"n": f"Load {n} {tag}"}, kind="createSite", stats=stats
    )
    user = None
    if made is not None:
        site_id = made["createSite"]["site"]["id"]
        user = await call(
            http,
            target,
            key,
            CREATE_USER,
            {"s": site_id, "e": f"client{n}.{tag}@load.example"},
            kind="createEndUser",
            stats=stats,
        )
    shared.one_ready(n)
    if user is None:
        return
    user_id = user["createEndUser"]["endUser"]["id"]
    kinds = [k for k, _ in MIX]
    weights = [w for _, w in MIX]
    cursor: str | None = None
    for i in range(MAX_OPERATIONS):
        if shared.stop.is_set():
            return
        kind = rng.choices(kinds, weights)[0]
        if kind == "endUsers page":
            page = await call(
                http,
                target,
                key,
                END_USERS,
                {"first": PAGE, "after": cursor},
                kind=kind,
                stats=stats,
            )
            if page is not None:
                info = page["endUsers"]["pageInfo"]
                cursor = info["endCursor"] if info["hasNextPage"] else None
        elif kind == "endUsers search":
            await call(
                http, target, key, SEARCH, {"s": rng.choice(SEARCHES)}, kind=kind, stats=stats
            )
        elif kind == "sites":
            await call(http, target, key, SITES, kind=kind, stats=stats)
        elif kind == "tenantConnections":
            await call(http, target, key, CONNECTIONS, kind=kind, stats=stats)
        elif kind == "syncRuns":
            await call(http, target, key, RUNS, kind=kind, stats=stats)
        elif kind == "createSite":
            name = f"Load {n} {tag} {i}"
            await call(http, target, key, CREATE_SITE, {"n": name}, kind=kind, stats=stats)
        else:
            title = f"Title {n}.{i}"
            await call(
                http, target, key, UPDATE_USER, {"id": user_id, "j": title}, kind=kind, stats=stats
            )
        if think > 0:
            await asyncio.sleep(rng.uniform(0, 2 * think))


async def subscriber(target: Target, key: str, stats: Stats, shared: Shared) -> None:
    """A websocket with syncRuns from the start and syncProgress(run) once the run exists.

    On a connection of its own, as a browser opens it: the client's HTTP session is limited to
    one connection, which the websocket would otherwise hold until it closes.
    """
    try:
        async with (
            aiohttp.ClientSession() as http,
            http.ws_connect(
                target.ws, protocols=(PROTOCOL,), timeout=aiohttp.ClientWSTimeout(ws_close=5)
            ) as ws,
        ):
            await ws.send_json(
                {"type": "connection_init", "payload": {"Authorization": f"Bearer {key}"}}
            )
            ack = await ws.receive_json(timeout=REQUEST_TIMEOUT)
            if ack.get("type") != "connection_ack":
                stats.error("subscribe", f"no connection_ack: {str(ack)[:120]}")
                return
            await ws.send_json({"id": "runs", "type": "subscribe", "payload": {"query": SUB_RUNS}})
            stats.subscribed["syncRuns"] += 1
            reader = asyncio.create_task(_read(ws, stats))
            try:
                await _follow_run(ws, stats, shared)
            finally:
                if not reader.done():
                    with contextlib.suppress(ConnectionError, RuntimeError):
                        await ws.send_json({"id": "runs", "type": "complete"})
                    await ws.close()
                await reader
    except (aiohttp.ClientError, TimeoutError) as exc:
        stats.error("subscribe", f"transport {type(exc).__name__}")


async def _follow_run(ws: aiohttp.ClientWebSocketResponse, stats: Stats, shared: Shared) -> None:
    wait_run: asyncio.Future[Any] = asyncio.ensure_future(asyncio.shield(shared.run_id))
    wait_stop: asyncio.Future[Any] = asyncio.create_task(shared.stop.wait())
    try:
        await asyncio.wait([wait_run, wait_stop], return_when=asyncio.FIRST_COMPLETED)
    finally:
        wait_run.cancel()
    if shared.run_id.done() and not shared.stop.is_set():
        query = {"query": SUB_PROGRESS, "variables": {"id": shared.run_id.result()}}
        await ws.send_json({"id": "progress", "type": "subscribe", "payload": query})
        stats.subscribed["syncProgress"] += 1
    await wait_stop


async def _read(ws: aiohttp.ClientWebSocketResponse, stats: Stats) -> None:
    last_progress: str | None = None
    async for message in ws:
        if message.type is not aiohttp.WSMsgType.TEXT:
            break
        data = json.loads(message.data)
        kind = data.get("type")
        name = {"runs": "syncRuns", "progress": "syncProgress"}.get(str(data.get("id")), "?")
        if kind == "next":
            payload = data.get("payload", {})
            if payload.get("errors"):
                stats.error(
                    name, "GraphQL error: " + str(payload["errors"][0].get("message"))[:120]
                )
                continue
            stats.events[name] += 1
            if name == "syncProgress":
                last_progress = payload["data"]["syncProgress"]["status"]
        elif kind == "error":
            stats.error(name, "error message: " + str(data.get("payload"))[:120])
        elif kind == "complete":
            stats.completed[name] += 1
            if name == "syncProgress":
                stats.progress_final[str(last_progress)] += 1
        elif kind == "ping":
            await ws.send_json({"type": "pong"})
    if ws.close_code not in (None, 1000):
        stats.error("subscribe", f"websocket closed {ws.close_code}")


# --- the driver ------------------------------------------------------------------------------


async def drive(
    target: Target, *, seconds: float, think: float, seed: int = 1, ready_timeout: float = 120.0
) -> PhaseResult:
    """Start one client per key in `target.client_keys`, then the import; stop the clients
    `seconds` after startSync or when the run ends, whichever is later (at most RUN_TIMEOUT).

    Raises LoadError when startSync is refused or the run does not end within RUN_TIMEOUT.
    """
    stats = Stats()
    shared = Shared(clients=len(target.client_keys))
    if not target.client_keys:
        shared.all_ready.set()
    tasks = [
        asyncio.create_task(
            client(n, target, key, stats, shared, think=think, seed=seed * 100_003 + n),
            name=f"client-{n}",
        )
        for n, key in enumerate(target.client_keys)
    ]
    tasks.append(asyncio.create_task(probe(target, stats, shared), name="probe"))
    try:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(shared.all_ready.wait(), ready_timeout)
        async with aiohttp.ClientSession() as http:
            began = time.monotonic()
            started = await call(
                http,
                target,
                target.admin_key,
                START_SYNC,
                {"c": target.connection_id},
                kind="startSync",
            )
            assert started is not None
            run_id = str(started["startSync"]["run"]["id"])
            shared.run_id.set_result(run_id)
            run = await _wait_for_run(http, target, run_id)
            wall = time.monotonic() - began
            # At least a second after the end: the subscribers' last events are on their way.
            least = max(seconds, wall + 1.0) if target.client_keys else 0.0
            left = least - (time.monotonic() - began)
            if left > 0:
                await asyncio.sleep(left)
            shared.stop.set()
            outcomes = await asyncio.wait_for(
                asyncio.gather(*tasks, return_exceptions=True), REQUEST_TIMEOUT + 30
            )
            load = time.monotonic() - began
            for outcome in outcomes:
                if isinstance(outcome, BaseException):
                    stats.error("client", repr(outcome)[:120])
    finally:
        shared.stop.set()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return PhaseResult(
        clients=len(target.client_keys),
        run_id=run_id,
        status=run["status"],
        error_message=run["errorMessage"],
        fetched=run["fetched"],
        created=run["created"],
        run_seconds=_seconds_between(run["startedAt"], run["finishedAt"]),
        wall_seconds=wall,
        load_seconds=load,
        stats=stats,
        began=began,
    )


async def probe(target: Target, stats: Stats, shared: Shared) -> None:
    """GET /healthz every PROBE_EVERY s until told to stop: no database, no GraphQL, so its
    latency is how long the server's event loop (or its accept queue) kept a request waiting."""
    connector = aiohttp.TCPConnector(limit=1, keepalive_timeout=KEEPALIVE)
    async with aiohttp.ClientSession(connector=connector) as http:
        for _ in range(MAX_OPERATIONS):
            if shared.stop.is_set():
                return
            sent = time.monotonic()
            try:
                async with http.get(
                    target.url + "/healthz", timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
                ) as resp:
                    await resp.read()
                    ok = resp.status == 200
            except (aiohttp.ClientError, TimeoutError) as exc:
                stats.error("probe", f"transport {type(exc).__name__}")
            else:
                if ok:
                    stats.probes.append((sent, time.monotonic() - sent))
                else:
                    stats.error("probe", f"HTTP {resp.status}")
            await asyncio.sleep(PROBE_EVERY)


async def _wait_for_run(http: aiohttp.ClientSession, target: Target, run_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + RUN_TIMEOUT
    while time.monotonic() < deadline:
        data = await call(http, target, target.admin_key, RUN_STATE, {"id": run_id}, kind="run")
        assert data is not None
        run: dict[str, Any] = data["node"]
        if run["status"] in TERMINAL:
            return run
        await asyncio.sleep(0.25)
    raise LoadError(f"run {run_id} did not end within {RUN_TIMEOUT:.0f} s")


def _seconds_between(start: str | None, end: str | None) -> float:
    if not start or not end:
        return float("nan")
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()


# --- processes and databases -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Database:
    label: str  # "SQLite" or "PostgreSQL"
    admin_dsn: str | None  # PostgreSQL server to create throwaway databases on


@contextlib.contextmanager
def database(db: Database, workdir: Path) -> Iterator[str]:
    """A fresh, empty database URL; removed afterwards."""
    if db.admin_dsn is None:
        path = workdir / f"load-{uuid.uuid4().hex[:8]}.db"
        try:
            yield f"sqlite://{path}"
        finally:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    import asyncpg  # type: ignore[import-untyped]

    name = f"entrasync_load_{uuid.uuid4().hex[:10]}"
    base = db.admin_dsn.rpartition("/")[0]

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(db.admin_dsn)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{base}/{name}"
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def seed(url: str, clients: int) -> tuple[str, list[str]]:
    """Migrate, then one account with an ADMIN key for the set-up and one per client."""
    from api.db import close_database, migrate, open_database
    from models import AccountMode, Role
    from services.api_keys import create_account, create_api_key

    await migrate(url)
    await open_database(url)
    try:
        account = await create_account("Load", AccountMode.IT_DEPARTMENT)
        admin = await create_api_key(account.id, Role.ADMIN, "load admin")
        keys = [
            (await create_api_key(account.id, Role.ADMIN, f"load client {n}")).secret
            for n in range(clients)
        ]
        return admin.secret, keys
    finally:
        await close_database()


def seed_in_child(url: str, clients: int) -> tuple[str, list[str]]:
    """`seed` in a child process: Tortoise and aerich keep per-dialect state for the process, so
    migrating a PostgreSQL database after a SQLite one in the same process fails."""
    out = subprocess.run(
        [sys.executable, "-m", "bench.load_test", "--seed-url", url, "--clients", str(clients)],
        cwd=ROOT,
        check=True,
        stdout=subprocess.PIPE,
    ).stdout
    keys = json.loads(out.decode().strip().splitlines()[-1])  # after anything migrate printed
    return str(keys["admin"]), [str(k) for k in keys["clients"]]


def _free_port() -> int:
    with socket.create_server((HOST, 0)) as sock:
        return int(sock.getsockname()[1])


@dataclass(frozen=True, slots=True)
class ApiProcess:
    url: str
    process: subprocess.Popen[bytes]
    log: Path


@contextlib.contextmanager
def api_server(
    url: str, sim_url: str, workdir: Path, redis_url: str | None = None
) -> Iterator[ApiProcess]:
    """`entrasync serve` in production mode on a loopback port; stopped however the block ends.

    With `redis_url`, runs execute in an `entrasync worker` process (ENTRASYNC_WORKERS=external)
    under a key prefix of their own, deleted afterwards; otherwise embedded in the API process.
    """
    from entra.cipher import generate_key
    from simulator.registration import DEMO_APP

    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENTRASYNC_")}
    env.update(
        {
            "ENTRASYNC_MODE": "production",
            "ENTRASYNC_DATABASE_URL": url,
            "ENTRASYNC_DATA_DIR": str(workdir),
            "ENTRASYNC_HOST": HOST,
            "ENTRASYNC_PORT": str(port),
            # The simulator's demo app registers this redirect URI only; the sign-in is completed
            # with the completeConnect mutation, so the browser never visits it.
            "ENTRASYNC_PUBLIC_URL": "http://127.0.0.1:8000",
            "ENTRASYNC_ENCRYPTION_KEY": f"k1:{generate_key()}",
            "ENTRASYNC_ENTRA_CLIENT_ID": DEMO_APP.client_id,
            "ENTRASYNC_ENTRA_CLIENT_SECRET": DEMO_APP.client_secret,
            "ENTRASYNC_ENTRA_AUTHORITY_HOST": sim_url,
            "ENTRASYNC_GRAPH_URL": sim_url + "/v1.0",
            "ENTRASYNC_SCHEDULER": "off",
            "ENTRASYNC_WORKERS": "embedded",
        }
    )
    prefix = f"entrasync-load-{uuid.uuid4().hex[:8]}:"
    commands = [["serve"]]
    if redis_url is not None:
        env |= {
            "ENTRASYNC_WORKERS": "external",
            "ENTRASYNC_REDIS_URL": redis_url,
            "ENTRASYNC_REDIS_PREFIX": prefix,
        }
        commands.append(["worker", "--concurrency", "1"])
    log = workdir / f"api-{port}.log"
    processes: list[subprocess.Popen[bytes]] = []
    try:
        with log.open("wb") as out:
            for command in commands:
                processes.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "api.cli", *command],
                        cwd=ROOT,
                        env=env,
                        stdout=out,
                        stderr=subprocess.STDOUT,
                    )
                )
        server = ApiProcess(f"http://{HOST}:{port}", processes[0], log)
        asyncio.run(_wait_ready(server))
        yield server
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if redis_url is not None:
            asyncio.run(_forget_prefix(redis_url, prefix))


async def _forget_prefix(redis_url: str, prefix: str) -> None:
    from redis.asyncio import Redis

    client = Redis.from_url(redis_url)
    try:
        keys = [key async for key in client.scan_iter(match=f"{prefix}*")]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


async def _wait_ready(server: ApiProcess) -> None:
    deadline = time.monotonic() + 60
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            if server.process.poll() is not None:
                tail = server.log.read_text(errors="replace")[-2000:]
                raise LoadError(f"the API exited with {server.process.returncode}:\n{tail}")
            with contextlib.suppress(aiohttp.ClientError):
                async with http.get(server.url + "/readyz") as resp:
                    if resp.status == 200:
                        return
            await asyncio.sleep(0.2)
    raise LoadError("the API did not become ready within 60 s")


def server_errors(log: Path) -> list[str]:
    """Lines of the server's log at ERROR or above (JSON logs in production), and tracebacks."""
    found = []
    for line in log.read_text(errors="replace").splitlines():
        level = ""
        if line.startswith("{"):
            with contextlib.suppress(ValueError):
                level = str(json.loads(line).get("level", "")).upper()
        if level in ("ERROR", "CRITICAL") or line.startswith(("ERROR:", "Traceback")):
            found.append(line[:300])
    return found


def phase(
    db: Database,
    sim_url: str,
    workdir: Path,
    *,
    clients: int,
    seconds: float,
    think: float,
    redis_url: str | None = None,
) -> tuple[PhaseResult, list[str]]:
    """A fresh database and API process (and worker); set-up through the API, then drive. Also
    returns the ERROR lines the processes logged."""
    with database(db, workdir) as url:
        admin_key, keys = seed_in_child(url, clients)
        with api_server(url, sim_url, workdir, redis_url) as server:

            async def go() -> PhaseResult:
                async with aiohttp.ClientSession() as http:
                    connection_id = await connect_and_configure(http, server.url, admin_key)
                target = Target(server.url, admin_key, keys, connection_id)
                return await drive(target, seconds=seconds, think=think)

            result = _run(go)
        return result, server_errors(server.log)


def _run(main: Callable[[], Awaitable[PhaseResult]]) -> PhaseResult:
    """The clients on uvloop when installed (it is, with uvicorn[standard]): more headroom."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(_await(main))
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(_await(main))


async def _await(main: Callable[[], Awaitable[PhaseResult]]) -> PhaseResult:
    return await main()


# --- report ------------------------------------------------------------------------------------


def windows(
    result: PhaseResult, samples: list[tuple[float, float]], count: int = 6
) -> list[tuple[float, float, list[float]]]:
    """Latencies of `samples` (sent at, seconds) in `count` equal windows of the load."""
    span = max(result.load_seconds, 1e-9) / count
    out: list[tuple[float, float, list[float]]] = [
        (i * span, (i + 1) * span, []) for i in range(count)
    ]
    for sent, seconds in samples:
        at = sent - result.began
        index = 0 if at < 0 else min(count - 1, int(at / span))
        out[index][2].append(seconds)
    return out


def report(label: str, baseline: PhaseResult, loaded: PhaseResult, logged: list[str]) -> int:
    """Print one database's figures; returns the number of errors (load, subscriptions, log)."""
    s = loaded.stats
    print(f"\n### {label}\n")
    print("| operation | requests | p50 ms | p99 ms | errors |")
    print("|---|---:|---:|---:|---:|")
    error_kinds = Counter(k.partition(":")[0] for k in s.errors.elements())
    for kind in [*(k for k, _ in MIX), "createEndUser"]:
        values = s.latencies.get(kind, [])
        if values:
            p50, p99 = percentile(values, 0.5) * 1000, percentile(values, 0.99) * 1000
            print(f"| {kind} | {len(values)} | {p50:.0f} | {p99:.0f} | {error_kinds[kind]} |")
        else:
            print(f"| {kind} | 0 | - | - | {error_kinds[kind]} |")
    everything = [v for values in s.latencies.values() for v in values]
    if everything:
        print(
            f"| **all** | {len(everything)} | {percentile(everything, 0.5) * 1000:.0f} "
            f"| {percentile(everything, 0.99) * 1000:.0f} | {sum(s.errors.values())} |"
        )
    print(
        "\nBy when the request was sent (seconds after startSync; the run ended at "
        f"{loaded.wall_seconds:.1f} s):\n"
    )
    print("| sent at | requests | p50 ms | p99 ms | max ms | GET /healthz p50 / max ms |")
    print("|---|---:|---:|---:|---:|---:|")
    requests = windows(loaded, [(sent, seconds) for sent, seconds, _ in s.timeline])
    probes = windows(loaded, s.probes)
    for (low, high, values), (_, _, probed) in zip(requests, probes, strict=True):
        if values:
            health = (
                f"{percentile(probed, 0.5) * 1000:.0f} / {max(probed) * 1000:.0f}"
                if probed
                else "-"
            )
            print(
                f"| {low:.1f}-{high:.1f} s | {len(values)} | {percentile(values, 0.5) * 1000:.0f} "
                f"| {percentile(values, 0.99) * 1000:.0f} | {max(values) * 1000:.0f} | {health} |"
            )
    slowest = sorted(s.timeline, key=lambda t: -t[1])[:5]
    print(
        "\nSlowest: "
        + "; ".join(f"{k} sent at {t - loaded.began:.1f} s took {d:.1f} s" for t, d, k in slowest)
    )
    if baseline.stats.probes:
        base = [d for _, d in baseline.stats.probes]
        print(
            f"GET /healthz during the import without load: p50 {percentile(base, 0.5) * 1000:.0f}"
            f" ms, max {max(base) * 1000:.0f} ms"
        )
    rate = loaded.requests / loaded.load_seconds if loaded.load_seconds else 0.0
    print(
        f"\n{loaded.clients} clients for {loaded.load_seconds:.1f} s: {loaded.requests} requests "
        f"({rate:.0f}/s). Subscriptions: syncRuns {s.subscribed['syncRuns']} subscribed, "
        f"{s.events['syncRuns']} events; syncProgress {s.subscribed['syncProgress']} subscribed, "
        f"{s.events['syncProgress']} events, {s.completed['syncProgress']} completed, final "
        f"status {dict(s.progress_final)}."
    )
    for name, phase_result in (("without load", baseline), ("under load", loaded)):
        print(
            f"Import {name}: {phase_result.status}, {phase_result.fetched} fetched, "
            f"{phase_result.created} created, run {phase_result.run_seconds:.1f} s "
            f"(startSync to seen ended {phase_result.wall_seconds:.1f} s)"
            + (f"; {phase_result.error_message}" if phase_result.error_message else "")
        )
    if baseline.run_seconds and baseline.run_seconds == baseline.run_seconds:
        print(f"Import under load / without: {loaded.run_seconds / baseline.run_seconds:.2f}x")
    problems = sum(s.errors.values()) + len(logged)
    for reason, count in s.errors.most_common():
        print(f"  error x{count}: {reason}")
    for line in logged[:20]:
        print(f"  server log: {line}")
    if s.subscribed["syncProgress"] != s.completed["syncProgress"]:
        print("  some syncProgress subscriptions did not complete")
        problems += 1
    if set(s.progress_final) - {"SUCCEEDED"}:
        print(f"  syncProgress ended with {dict(s.progress_final)}")
        problems += 1
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load_test", description=__doc__)
    parser.add_argument("--clients", type=int, default=300, help="concurrent API clients")
    parser.add_argument(
        "--seconds", type=float, default=20.0, help="least load time after startSync"
    )
    parser.add_argument("--users", type=int, default=20_000, help="users in the simulated tenant")
    parser.add_argument("--think", type=float, default=0.5, help="mean think time per client (s)")
    parser.add_argument(
        "--postgres", metavar="DSN", help="also on PostgreSQL (throwaway databases)"
    )
    parser.add_argument(
        "--redis",
        metavar="URL",
        help="run the import in an `entrasync worker` process (ENTRASYNC_WORKERS=external)",
    )
    parser.add_argument("--quick", action="store_true", help="smoke: 30 clients, 3 s, 2,000 users")
    # Internal: how each phase migrates and fills its database (in a child process).
    parser.add_argument("--seed-url", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.seed_url:
        admin, keys = asyncio.run(seed(args.seed_url, args.clients))
        print(json.dumps({"admin": admin, "clients": keys}))
        return 0
    if args.quick:
        args.clients, args.seconds, args.users = 30, 3.0, 2_000
    if args.clients < 1 or args.seconds <= 0 or args.users < 1 or args.think < 0:
        parser.error("--clients, --seconds and --users must be positive, --think not negative")
    from bench.import_sim import simulator

    databases = [Database("SQLite", None)]
    if args.postgres:
        databases.append(Database("PostgreSQL", args.postgres))
    print(
        f"load test: {args.clients} clients (think 0..{2 * args.think:g} s), at least "
        f"{args.seconds:g} s after startSync, tenant of {args.users:,} users; Python "
        f"{sys.version.split()[0]}, {os.cpu_count()} CPUs; runs "
        + ("in an `entrasync worker` process" if args.redis else "embedded in the API process"),
        flush=True,
    )
    problems = 0
    workdir = Path(tempfile.mkdtemp(prefix="entrasync-load-"))
    try:
        with simulator(args.users) as sim:
            for db in databases:
                print(f"{db.label}: baseline import (no clients)...", flush=True)
                baseline, logged_a = phase(
                    db,
                    sim.base_url,
                    workdir,
                    clients=0,
                    seconds=0,
                    think=args.think,
                    redis_url=args.redis,
                )
                print(f"{db.label}: import under load...", flush=True)
                loaded, logged_b = phase(
                    db,
                    sim.base_url,
                    workdir,
                    clients=args.clients,
                    seconds=args.seconds,
                    think=args.think,
                    redis_url=args.redis,
                )
                problems += report(db.label, baseline, loaded, logged_a + logged_b)
                problems += sum(r.status != "SUCCEEDED" for r in (baseline, loaded))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"\n{'FAILED' if problems else 'OK'}: {problems} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
