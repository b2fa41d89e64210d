"""API throughput: entrasync's /graphql against a bare graphql-core reference, over real HTTP.

Run from the repository root: `python -m bench.api [--seconds S] [--concurrency N] [--rounds R]`,
or `python -m bench.api --quick` as a CI smoke test (under 30 s). Never a timed assertion.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from importlib.metadata import version
from inspect import isawaitable
from pathlib import Path
from typing import Any

from graphql import (
    DocumentNode,
    GraphQLArgument,
    GraphQLField,
    GraphQLID,
    GraphQLInt,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLSchema,
    GraphQLString,
    execute,
    parse,
    validate,
)
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from api.db import close_database, migrate, open_database
from models import Account, AccountMode, EndUser, Role, Site
from services.api_keys import authenticate, create_api_key
from services.caller import Caller

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
QUERY = (
    "query Users($first: Int!) {"
    " endUsers(first: $first) { edges { node { email firstName site { id name } } } } }"
)
# (label, first): the per-request floor, then a full page where per-object cost dominates.
CASES = (("1 user", 1), ("100 users + site", 100))
SERVERS = ("entrasync", "reference")
USERS, SITES = 1_000, 10
TARGET_RATIO = 0.75


# --- data -----------------------------------------------------------------------------------


async def seed(url: str) -> str:
    """Migrates a fresh database, fills one account, returns the clear ADMIN key."""
    await migrate(url)
    await open_database(url)
    try:
        account = await Account.create(name="Bench", mode=AccountMode.IT_DEPARTMENT)
        await Site.bulk_create([Site(account=account, name=f"Site {i}") for i in range(SITES)])
        # bulk_create does not report ids back on every backend, so read them.
        site_ids = [s.id for s in await Site.filter(account=account).order_by("id")]
        await EndUser.bulk_create(
            [
                EndUser(
                    account_id=account.id,
                    site_id=site_ids[i % SITES],
                    email=f"user{i}@example.com",
                    email_key=f"user{i}@example.com",
                    first_name=f"First{i}",
                    last_name=f"Last{i}",
                )
                for i in range(USERS)
            ],
            batch_size=500,
        )
        return (await create_api_key(account.id, Role.ADMIN, "bench")).secret
    finally:
        await close_database()


# --- the reference server: plain graphql-core, same auth, same tables ------------------------


def _bearer(value: str | None) -> str | None:
    # Same parsing as api/graphql_view.py, so both servers accept exactly the same header.
    scheme, _, token = (value or "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _global_id(type_name: str, pk: int) -> str:
    # Relay global id as strawberry encodes it, so both servers return byte-identical data.
    return base64.b64encode(f"{type_name}:{pk}".encode()).decode()


async def _resolve_end_users(
    _root: None, info: GraphQLResolveInfo[Caller], first: int
) -> dict[str, Any]:
    caller: Caller = info.context
    rows = await EndUser.filter(account_id=caller.account_id).order_by("id").limit(first)
    # The sites of the whole page in one query, like entrasync's DataLoader; dicts because
    # graphql-core's default resolver reads mappings by key, the cheapest path it has.
    wanted = {row.site_id for row in rows}
    sites = {
        s.id: {"id": _global_id("Site", s.id), "name": s.name}
        for s in await Site.filter(id__in=wanted, account_id=caller.account_id)
    }
    return {
        "edges": [
            {"node": {"email": r.email, "firstName": r.first_name, "site": sites[r.site_id]}}
            for r in rows
        ]
    }


def reference_schema() -> GraphQLSchema:
    """Just the slice of entrasync's schema that the benchmark queries."""

    def nn(t: Any) -> GraphQLNonNull[Any]:
        return GraphQLNonNull(t)

    site = GraphQLObjectType(
        "Site", {"id": GraphQLField(nn(GraphQLID)), "name": GraphQLField(nn(GraphQLString))}
    )
    end_user = GraphQLObjectType(
        "EndUser",
        {
            "email": GraphQLField(nn(GraphQLString)),
            "firstName": GraphQLField(nn(GraphQLString)),
            "site": GraphQLField(nn(site)),
        },
    )
    edge = GraphQLObjectType("EndUserEdge", {"node": GraphQLField(nn(end_user))})
    connection = GraphQLObjectType(
        "EndUserConnection", {"edges": GraphQLField(nn(GraphQLList(nn(edge))))}
    )
    query = GraphQLObjectType(
        "Query",
        {
            "endUsers": GraphQLField(
                nn(connection),
                args={"first": GraphQLArgument(GraphQLInt, default_value=50)},
                resolve=_resolve_end_users,
            )
        },
    )
    return GraphQLSchema(query)


def reference_app(url: str) -> Starlette:
    """POST /graphql for the one benchmark query, and GET /healthz."""
    schema = reference_schema()
    # Parsed and validated once per query text, as strawberry's ParserCache and ValidationCache
    # are meant to.
    documents: dict[str, DocumentNode] = {}

    async def graphql_endpoint(request: Request) -> JSONResponse:
        token = _bearer(request.headers.get("authorization"))
        caller = await authenticate(token) if token else None
        if caller is None:
            return JSONResponse({"errors": [{"message": "invalid API key"}]}, status_code=401)
        body = await request.json()
        document = documents.get(body["query"])
        if document is None:
            document = parse(body["query"])
            if errors := validate(schema, document):
                return JSONResponse({"errors": [e.formatted for e in errors]}, status_code=400)
            if len(documents) < 256:  # bounded, like strawberry's LRU
                documents[body["query"]] = document
        result = execute(
            schema, document, context_value=caller, variable_values=body.get("variables")
        )
        if isawaitable(result):
            result = await result
        payload: dict[str, Any] = {"data": result.data}
        if result.errors:
            payload["errors"] = [e.formatted for e in result.errors]
        return JSONResponse(payload)

    async def healthz(_: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        # As entrasync's lifespan opens it: shared with the request tasks.
        await open_database(url, shared=True)
        try:
            yield
        finally:
            await close_database()

    return Starlette(
        routes=[
            Route("/graphql", graphql_endpoint, methods=["POST"]),
            Route("/healthz", healthz),
        ],
        lifespan=lifespan,
    )


# --- server processes -------------------------------------------------------------------------


def serve(kind: str, url: str, fd: int) -> None:
    """Child process: one uvicorn worker on a socket the parent already bound and listens on."""
    import uvicorn
    from pydantic import SecretStr

    from api.app import create_app, server_options
    from api.settings import Settings
    from entra.cipher import generate_key

    # Production mode (introspection off, errors masked) needs a token-cache key; a throwaway one.
    # The per-key rate limit would throttle a one-key load test: set far above what one worker
    # serves, so the limiter still runs on every request but never refuses one.
    settings = Settings(
        database_url=url,
        mode="production",
        encryption_key=SecretStr(f"k1:{generate_key()}"),
        rate_limit_per_minute=1_000_000_000,
        rate_limit_burst=1_000_000,
    )
    # entrasync with its own lifespan, as `entrasync serve` starts it.
    app = create_app(settings) if kind == "entrasync" else reference_app(url)
    # The uvicorn options of `entrasync serve` (uvloop and httptools when installed) for both,
    # minus the access log: a fixed per-request cost that would only blur the difference.
    config = uvicorn.Config(app, log_level="warning", access_log=False, **server_options(settings))
    uvicorn.Server(config).run(sockets=[socket.socket(fileno=fd)])


@dataclass(frozen=True, slots=True)
class Server:
    port: int
    process: subprocess.Popen[bytes]


@contextlib.contextmanager
def servers(url: str) -> Iterator[dict[str, Server]]:
    """Starts both servers in their own processes; terminates them however the block ends."""
    started: dict[str, Server] = {}
    try:
        for kind in SERVERS:
            # Bound and listening before the child starts: no free-port race, no port to report back.
            with socket.create_server((HOST, 0), backlog=1024) as sock:
                fd = sock.fileno()
                args = ["--serve", kind, "--fd", str(fd), "--database-url", url]
                process = subprocess.Popen(
                    [sys.executable, "-m", "bench.api", *args], pass_fds=[fd], cwd=ROOT
                )
                started[kind] = Server(sock.getsockname()[1], process)
        yield started
    finally:
        for server in started.values():
            server.process.terminate()
        for server in started.values():
            try:
                server.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.process.kill()
                server.process.wait()


# --- client -------------------------------------------------------------------------------------
# A minimal HTTP/1.1 keep-alive client on raw asyncio streams. httpx peaked at ~600 req/s on this
# machine even against a constant JSON endpoint, below what the reference serves, so it would
# have measured itself. This one parses only what uvicorn sends back: status line, headers,
# Content-Length body.


def http_request(port: int, method: str, path: str, body: bytes = b"", key: str = "") -> bytes:
    """The bytes of one request, built once per run and written as is by every worker."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: {HOST}:{port}"]
    if key:
        lines.append(f"Authorization: Bearer {key}")
    if body:
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> tuple[int, bytes]:
    """Sends one request on an open connection; returns (status, body).

    Raises RuntimeError for a response without Content-Length (chunked): uvicorn never sends one
    for these endpoints, so it means something unexpected answered.
    """
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.lower() == b"content-length":
            return status, await reader.readexactly(int(value))
    raise RuntimeError(f"response without Content-Length: {head[:200]!r}")


async def fetch(port: int, request: bytes) -> tuple[int, bytes]:
    """One request on a fresh connection (set-up and checks, not load)."""
    reader, writer = await asyncio.open_connection(HOST, port)
    try:
        return await exchange(reader, writer, request)
    finally:
        writer.close()


async def wait_ready(server: Server) -> None:
    """Raises RuntimeError when the server exits or does not answer /healthz within 30 s."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"server on port {server.port} exited: {server.process.returncode}")
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            if (await fetch(server.port, http_request(server.port, "GET", "/healthz")))[0] == 200:
                return
        await asyncio.sleep(0.1)
    raise RuntimeError(f"server on port {server.port} did not become ready within 30 s")


# --- load ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Run:
    rate: float  # successful requests per second
    p50_ms: float
    p99_ms: float
    errors: int


def _percentile(sorted_values: list[float], q: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


async def load(port: int, request: bytes, *, seconds: float, concurrency: int) -> Run:
    """Closed loop: `concurrency` connections, each sending its next request when the last ends.

    Fresh connections per run: uvicorn drops keep-alive connections idle for 5 s, which is what
    one server's connections are while the other is measured. Raises TimeoutError when a run
    overstays its time by 30 s (a stuck server).
    """
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection(HOST, port)
        try:
            while (start := time.perf_counter()) < deadline:
                status, _ = await exchange(reader, writer, request)
                if status == 200:
                    latencies.append(time.perf_counter() - start)
                else:
                    errors += 1
        finally:
            writer.close()

    began = time.perf_counter()
    async with asyncio.timeout(seconds + 30):
        await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - began
    latencies.sort()
    if not latencies:
        return Run(0.0, float("nan"), float("nan"), errors)
    return Run(
        len(latencies) / elapsed,
        _percentile(latencies, 0.50) * 1000,
        _percentile(latencies, 0.99) * 1000,
        errors,
    )


def graphql_request(port: int, first: int, key: str) -> bytes:
    body = json.dumps({"query": QUERY, "variables": {"first": first}}).encode()
    return http_request(port, "POST", "/graphql", body, key)


async def check_same_answers(started: dict[str, Server], key: str) -> None:
    """Raises RuntimeError unless both servers return the same, complete JSON for every case."""
    for label, first in CASES:
        answers = {}
        for kind, server in started.items():
            status, body = await fetch(server.port, graphql_request(server.port, first, key))
            answers[kind] = (status, json.loads(body))
        if answers["entrasync"] != answers["reference"]:
            raise RuntimeError(f"{label}: the servers disagree: {str(answers)[:2000]}")
        status, payload = answers["entrasync"]
        if (
            status != 200
            or "errors" in payload
            or len(payload["data"]["endUsers"]["edges"]) != first
        ):
            raise RuntimeError(f"{label}: unexpected answer {status} {str(payload)[:300]}")


@dataclass(slots=True)
class Results:
    ceiling: Run  # GET /healthz on the reference server: what client + HTTP can do at most
    runs: dict[tuple[str, str], list[Run]]  # (case label, server) -> one Run per round


async def bench(key: str, started: dict[str, Server], args: argparse.Namespace) -> Results:
    """Every (case, server) pair `rounds` times, the two servers alternating so drift hits both."""
    for server in started.values():
        await wait_ready(server)
    await check_same_answers(started, key)
    conc = args.concurrency
    ref = started["reference"]
    healthz = http_request(ref.port, "GET", "/healthz")
    await load(ref.port, healthz, seconds=args.warmup, concurrency=conc)
    ceiling = await load(ref.port, healthz, seconds=args.seconds, concurrency=conc)
    results = Results(ceiling=ceiling, runs={})
    print(f"  client + HTTP ceiling (GET /healthz): {results.ceiling.rate:,.0f} req/s", flush=True)
    for rnd in range(args.rounds):
        for label, first in CASES:
            # A, B then B, A: neither server always runs right after the other's warm state.
            for kind in SERVERS if rnd % 2 == 0 else SERVERS[::-1]:
                port = started[kind].port
                request = graphql_request(port, first, key)
                await load(port, request, seconds=args.warmup, concurrency=conc)
                run = await load(port, request, seconds=args.seconds, concurrency=conc)
                results.runs.setdefault((label, kind), []).append(run)
                print(
                    f"  round {rnd + 1}  {label:<17} {kind:<9} {run.rate:7,.0f} req/s"
                    f"  p50 {run.p50_ms:6.1f} ms  p99 {run.p99_ms:6.1f} ms  errors {run.errors}",
                    flush=True,
                )
    return results


def report(results: Results, args: argparse.Namespace) -> bool:
    """Prints the table (medians over rounds); True when every ratio meets the target."""
    versions = ", ".join(
        f"{p} {version(p)}" for p in ("strawberry-graphql", "graphql-core", "uvicorn", "starlette")
    )
    print(
        f"\n{args.rounds} round(s) x {args.seconds:g} s per server and query after {args.warmup:g} s"
        f" warm-up, {args.concurrency} connections; Python {sys.version.split()[0]}, {versions}\n"
    )
    print("| query | server | req/s | p50 ms | p99 ms | errors |")
    print("|---|---|---:|---:|---:|---:|")
    ok = True
    for label, _ in CASES:
        for kind in SERVERS:
            rs = results.runs[label, kind]
            print(
                f"| {label} | {kind} | {statistics.median(r.rate for r in rs):,.0f} "
                f"| {statistics.median(r.p50_ms for r in rs):.1f} "
                f"| {statistics.median(r.p99_ms for r in rs):.1f} | {sum(r.errors for r in rs)} |"
            )
        # Paired per round: both runs of one round saw the same machine weather.
        pairs = zip(results.runs[label, "entrasync"], results.runs[label, "reference"], strict=True)
        ratios = [a.rate / b.rate for a, b in pairs]
        ratio = statistics.median(ratios)
        ok = ok and ratio >= TARGET_RATIO
        spread = f" (rounds {min(ratios):.2f}-{max(ratios):.2f})" if len(ratios) > 1 else ""
        print(f"| {label} | **entrasync / reference** | **{ratio:.2f}x**{spread} | | | |")
    c = results.ceiling
    print(
        f"| GET /healthz (client + HTTP ceiling) | reference | {c.rate:,.0f} "
        f"| {c.p50_ms:.1f} | {c.p99_ms:.1f} | {c.errors} |"
    )
    verdict = "meets" if ok else "is BELOW"
    print(f"\nentrasync {verdict} the {TARGET_RATIO:.2f}x target (median paired ratio per query).")
    failed = sum(r.errors for rs in results.runs.values() for r in rs)
    if failed:
        print(
            f"{failed} requests failed (non-200): the figures above do not compare like for like."
        )
    return ok


def failures(results: Results) -> int:
    return results.ceiling.errors + sum(r.errors for rs in results.runs.values() for r in rs)


def _client_loop() -> asyncio.AbstractEventLoop:
    # The client on uvloop too when present (it is, with uvicorn[standard]): more headroom.
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.api", description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0, help="measured time per run")
    parser.add_argument("--warmup", type=float, default=1.0, help="unmeasured time before each run")
    parser.add_argument("--concurrency", type=int, default=16, help="concurrent connections")
    parser.add_argument("--rounds", type=int, default=3, help="rounds; medians are reported")
    parser.add_argument("--quick", action="store_true", help="CI smoke: 1 round of 1 s")
    # Internal: how the parent starts each server process.
    parser.add_argument("--serve", choices=SERVERS, help=argparse.SUPPRESS)
    parser.add_argument("--fd", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.serve, args.database_url, args.fd)
        return 0
    if args.quick:
        args.seconds, args.warmup, args.rounds = 1.0, 0.3, 1
    if args.seconds <= 0 or args.warmup < 0 or args.rounds < 1 or args.concurrency < 1:
        parser.error("--seconds, --rounds and --concurrency must be positive")

    with tempfile.TemporaryDirectory(prefix="entrasync-bench-") as tmp:
        url = f"sqlite://{Path(tmp) / 'bench.db'}"
        key = asyncio.run(seed(url))
        with servers(url) as started, asyncio.Runner(loop_factory=_client_loop) as runner:
            results = runner.run(bench(key, started, args))
    report(results, args)
    # Timing never fails CI (a benchmark informs); failed requests do: the API is broken.
    return 1 if failures(results) else 0


if __name__ == "__main__":
    raise SystemExit(main())
