"""Event lag: from a worker's publish to a subscriber on another process, through Redis (R2).

Run from the repository root with Redis reachable:

    python -m bench.event_lag            # 2,000 progress events at 100 a second
    python -m bench.event_lag --quick    # CI smoke: 200 events

Three processes on loopback: a publisher standing in for a worker (its own process, publishing
through services.redis_bus.RedisBus exactly as RunProgress.publish does: the run's snapshot to
the run topic and the account topic), an `entrasync serve` API process (ENTRASYNC_WORKERS=external),
and this process, which subscribes twice: to the bus directly (a RedisBus of its own: the bus
alone) and to `syncProgress(runId)` over graphql-transport-ws on the API process (what a client
sees: Redis, the API's listener and fan-out, strawberry, the websocket). Each event carries its
send time (time.monotonic_ns, one clock for every process of the machine) in its `phase`, which
the subscription passes through unchanged. The run is a real row of a throwaway SQLite database,
so the subscription is authorised as any other. Reports p50/p90/p99/max and events lost (a
subscriber's mailbox drops the oldest snapshot when it falls behind; none should be at this rate).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import websockets
from redis.asyncio import Redis

from api.db import close_database, migrate, open_database
from models import AccountMode, ConnectionScope, Role, RunStatus, SyncRun, TenantConnection
from schema.ids import encode_id
from services.api_keys import create_account, create_api_key
from services.events import account_runs_topic, run_topic
from services.redis_bus import RedisBus
from services.sync.progress import snapshot
from tests.scale.processes import HOST, Processes, entrasync_env, free_port

REDIS_URL = os.environ.get("ENTRASYNC_TEST_REDIS", "redis://127.0.0.1:6379/0")
PROTOCOL = "graphql-transport-ws"
STAMP = "lag:"


# --- the publisher (a worker's side), run as `python -m bench.event_lag --publish ...` -------


async def publish(args: argparse.Namespace) -> None:
    """Wait for both subscribers, then publish `events` snapshots at `rate` a second."""
    redis = Redis.from_url(REDIS_URL)
    bus = RedisBus(redis, prefix=args.prefix)
    channel = f"{args.prefix}{run_topic(args.run_id)}"
    async with asyncio.timeout(60):
        while (await redis.pubsub_numsub(channel))[0][1] < 2:  # noqa: ASYNC110 (Redis, not us)
            await asyncio.sleep(0.05)
    event: dict[str, Any] = json.loads(args.snapshot)
    start = time.monotonic()
    for n in range(args.events):
        await asyncio.sleep(max(0.0, start + n / args.rate - time.monotonic()))
        event.update(phase=f"{STAMP}{time.monotonic_ns()}", fetched=n, created=n)
        await bus.publish(run_topic(args.run_id), event)
        await bus.publish(account_runs_topic(event["account_id"]), event)
    await asyncio.sleep(0.5)
    event.update(status="SUCCEEDED", phase="done")
    await bus.publish(run_topic(args.run_id), event)
    await bus.close()
    await redis.aclose()


# --- the measuring side -----------------------------------------------------------------


@dataclass
class Lags:
    name: str
    ms: list[float]
    sent: int

    def row(self) -> str:
        q = statistics.quantiles(self.ms, n=100, method="inclusive") if len(self.ms) > 1 else []
        p = (lambda k: q[k - 1]) if q else (lambda k: float("nan"))
        lost = self.sent - len(self.ms)
        return (
            f"| {self.name} | {len(self.ms):,} | {lost} | {statistics.median(self.ms):.2f} | "
            f"{p(90):.2f} | {p(99):.2f} | {max(self.ms):.2f} |"
        )


def _lag_ms(phase: str, received_ns: int) -> float | None:
    if not phase.startswith(STAMP):
        return None
    return (received_ns - int(phase[len(STAMP) :])) / 1e6


async def _bus_subscriber(prefix: str, run_id: int, ready: asyncio.Event) -> list[float]:
    redis = Redis.from_url(REDIS_URL)
    bus = RedisBus(redis, prefix=prefix, mailbox_size=16)
    lags: list[float] = []
    try:
        async with bus.subscribe(run_topic(run_id)) as events:
            ready.set()
            async for event in events:
                now = time.monotonic_ns()
                if (lag := _lag_ms(str(event["phase"]), now)) is not None:
                    lags.append(lag)
                if event["status"] == "SUCCEEDED":
                    return lags
    finally:
        await bus.close()
        await redis.aclose()
    return lags


async def _ws_subscriber(ws_url: str, key: str, run_gid: str, ready: asyncio.Event) -> list[float]:
    query = "subscription($id: ID!) { syncProgress(runId: $id) { status phase } }"
    lags: list[float] = []
    async with websockets.connect(ws_url, subprotocols=[PROTOCOL]) as ws:  # type: ignore[list-item]
        init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {key}"}}
        await ws.send(json.dumps(init))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        payload = {"query": query, "variables": {"id": run_gid}}
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
        first = json.loads(await ws.recv())  # the current state: the API has subscribed
        assert first["type"] == "next", first
        ready.set()
        while True:
            message = json.loads(await ws.recv())
            now = time.monotonic_ns()
            if message["type"] == "complete":
                return lags
            progress = message["payload"]["data"]["syncProgress"]
            if (lag := _lag_ms(progress["phase"], now)) is not None:
                lags.append(lag)


async def _fixtures(url: str, total: int) -> tuple[str, SyncRun]:
    """An account, its ADMIN key and a RUNNING run of a connection (rows only)."""
    await open_database(url)
    try:
        account = await create_account("Lag", AccountMode.IT_DEPARTMENT)
        key = await create_api_key(account.id, Role.ADMIN, "bench")
        conn = await TenantConnection.create(account_id=account.id, scope=ConnectionScope.ACCOUNT)
        run = await SyncRun.create(
            account_id=account.id,
            connection=conn,
            status=RunStatus.RUNNING,
            phase="users",
            total=total,
        )
    finally:
        await close_database()
    return key.secret, run


async def bench(args: argparse.Namespace) -> list[Lags]:
    work = Path(tempfile.mkdtemp(prefix="entrasync-lag-"))
    url = f"sqlite://{work / 'lag.db'}"
    await migrate(url)
    key, run = await _fixtures(url, args.events)
    prefix = f"entrasync-lag-{uuid.uuid4().hex[:8]}:"
    port = free_port()
    env = entrasync_env(
        database_url=url,
        data_dir=work,
        redis_url=REDIS_URL,
        redis_prefix=prefix,
        workers="external",
        scheduler="off",
        rate_limit_per_minute=0,
    )
    async with Processes(work / "logs") as procs:
        await procs.api("api", env, port)
        bus_ready, ws_ready = asyncio.Event(), asyncio.Event()
        on_bus = asyncio.create_task(_bus_subscriber(prefix, run.id, bus_ready))
        on_ws = asyncio.create_task(
            _ws_subscriber(
                f"ws://{HOST}:{port}/graphql", key, encode_id("SyncRun", run.id), ws_ready
            )
        )
        await asyncio.wait_for(asyncio.gather(bus_ready.wait(), ws_ready.wait()), 30)
        publisher = subprocess.Popen(  # noqa: ASYNC220 (a spawn; awaited by polling below)
            [
                sys.executable,
                "-m",
                "bench.event_lag",
                "--publish",
                "--prefix",
                prefix,
                "--run-id",
                str(run.id),
                "--events",
                str(args.events),
                "--rate",
                str(args.rate),
                "--snapshot",
                json.dumps(snapshot(run), default=str),
            ],
            env=env,
        )
        try:
            timeout = args.events / args.rate + 60
            bus_lags, ws_lags = await asyncio.wait_for(asyncio.gather(on_bus, on_ws), timeout)
        finally:
            if publisher.poll() is None:
                publisher.kill()
            publisher.wait()
    return [
        Lags("bus: RedisBus subscriber in another process", bus_lags, args.events),
        Lags(
            "client: syncProgress over graphql-transport-ws via `entrasync serve`",
            ws_lags,
            args.events,
        ),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.event_lag", description=__doc__)
    parser.add_argument("--events", type=int, default=2_000)
    parser.add_argument("--rate", type=float, default=100.0, help="events a second")
    parser.add_argument("--quick", action="store_true", help="CI smoke: 200 events")
    parser.add_argument("--publish", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--prefix", help=argparse.SUPPRESS)
    parser.add_argument("--run-id", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--snapshot", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.publish:
        asyncio.run(publish(args))
        return 0
    if args.quick:
        args.events = 200
    results = asyncio.run(bench(args))
    print(
        f"{args.events:,} events at {args.rate:g}/s, each published to 2 topics "
        f"(as RunProgress.publish does); {os.cpu_count()} CPUs\n"
    )
    print("| subscriber | received | lost | p50 ms | p90 ms | p99 ms | max ms |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for lags in results:
        print(lags.row())
    return 0 if all(lags.ms for lags in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
