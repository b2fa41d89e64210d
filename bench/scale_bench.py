"""Scale-out benchmark: the first import of several tenants by 1, 2 and 4 `entrasync worker`s.

Run from the repository root with PostgreSQL and Redis reachable (as for the tests):

    python -m bench.scale_bench                  # 4 tenants x 25,000 users; 1x1, 2x1, 4x1, 1x4
    python -m bench.scale_bench --page-delay 0.2 # the same with Graph-like latency per page
    python -m bench.scale_bench --quick          # CI smoke: 4 x 2,000 users; 1x1 and 2x1, once

A configuration "WxC" is W worker processes executing up to C runs each. The simulator runs as
a process of its own with all the tenants. Each configuration gets a fresh PostgreSQL database
(migrated), fresh accounts each connected to one tenant (SITE scope, members and guests), and
its workers, started and ready before the clock starts. The clock runs from queueing every
tenant's run (the startSync service, in this process, with ENTRASYNC_WORKERS=external) to the
end of the last one. Each configuration is measured `--rounds` times (2), in alternating order,
and reported by its median. Every run must succeed (exit 1 otherwise); the figures are wall
times, never assertions.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import asyncpg
from pydantic import SecretStr
from redis.asyncio import Redis

from api.db import close_database, migrate, open_database
from api.runtime import open_runtime
from api.settings import Settings
from entra.cipher import generate_key
from models import AccountMode, ConnectionScope, Role, Site, SyncRun
from services.api_keys import authenticate, create_account, create_api_key
from services.connections import complete_connect, start_connect
from services.sync.runs import runner_of, start_sync
from services.wizard import ImportSettings, configure_import
from simulator.registration import DEMO_APP
from tests.scale.processes import HOST, Child, Processes, entrasync_env, free_port

PG_ADMIN = os.environ.get("ENTRASYNC_TEST_PG", "postgres://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("ENTRASYNC_TEST_REDIS", "redis://127.0.0.1:6379/0")
RUN_TIMEOUT = 1800.0


@dataclass
class Outcome:
    config: str
    workers: int
    concurrency: int
    wall_s: float
    users: int
    users_per_s: float
    engine_s: list[float]  # each run's started_at -> finished_at
    runs_per_worker: list[int]
    statuses: list[str]
    errors: list[str]
    worker_cpu_s: float  # CPU time the workers spent while measured (user + system)
    sim_cpu_s: float  # the same for the simulator (the fake Graph)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a live process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _parse_configs(text: str) -> list[tuple[int, int]]:
    configs = []
    for item in text.split(","):
        workers, _, concurrency = item.strip().partition("x")
        configs.append((int(workers), int(concurrency or 1)))
    return configs


async def _fresh_database() -> str:
    name = f"entrasync_scale_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(PG_ADMIN)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    url = f"{PG_ADMIN.rpartition('/')[0]}/{name}"
    await migrate(url)
    return url


async def _drop_database(url: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{url.rpartition("/")[2]}" WITH (FORCE)')
    finally:
        await conn.close()


async def _sim_json(http: aiohttp.ClientSession, url: str, body: Any = None) -> Any:
    if body is None:
        async with http.get(url) as resp:
            resp.raise_for_status()
            return await resp.json()
    async with http.post(url, json=body) as resp:
        resp.raise_for_status()
        return await resp.json()


async def _sign_in(url: str) -> dict[str, str]:
    async with aiohttp.ClientSession() as http, http.get(url, allow_redirects=False) as resp:
        if resp.status not in (302, 303):
            raise RuntimeError(f"sign-in answered {resp.status}: {(await resp.text())[:300]}")
        location = resp.headers["Location"]
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


async def _measure(
    config: tuple[int, int], sim: Child, sim_url: str, domains: list[str]
) -> Outcome:
    workers, concurrency = config
    url = await _fresh_database()
    prefix = f"entrasync-bench-{uuid.uuid4().hex[:8]}:"
    data_dir = Path(tempfile.mkdtemp(prefix="entrasync-scale-"))
    key = f"k1:{generate_key()}"
    settings = Settings(
        database_url=url,
        data_dir=data_dir,
        encryption_key=SecretStr(key),
        redis_url=REDIS_URL,
        redis_prefix=prefix,
        workers="external",
        entra_client_id=DEMO_APP.client_id,
        entra_client_secret=SecretStr(DEMO_APP.client_secret),
        entra_authority_host=sim_url,
        graph_url=sim_url + "/v1.0",
        public_url="http://127.0.0.1:8000",
    )
    env = entrasync_env(
        database_url=url,
        data_dir=data_dir,
        encryption_key=key,
        redis_url=REDIS_URL,
        redis_prefix=prefix,
        workers="external",
        entra_client_id=DEMO_APP.client_id,
        entra_client_secret=DEMO_APP.client_secret,
        entra_authority_host=sim_url,
        graph_url=sim_url + "/v1.0",
        public_url="http://127.0.0.1:8000",
    )
    await open_database(url)
    try:
        async with open_runtime(settings) as rt, Processes(data_dir / "logs") as procs:
            ready = []
            for domain in domains:
                account = await create_account(f"Bench {domain}", AccountMode.IT_DEPARTMENT)
                caller = await authenticate(
                    (await create_api_key(account.id, Role.ADMIN, "bench")).secret
                )
                assert caller is not None
                site = await Site.create(account_id=account.id, name="Everyone")
                _, sign_in = await start_connect(
                    rt,
                    caller,
                    scope=ConnectionScope.SITE,
                    site_id=site.id,
                    login_hint=f"admin@{domain}",
                )
                done = await complete_connect(rt, caller, await _sign_in(sign_in))
                conn = done[0] if isinstance(done, tuple) else done
                both = ImportSettings(user_types=("MEMBER", "GUEST"))
                ready.append((caller, await configure_import(rt, caller, conn.id, both)))
            children = await asyncio.gather(
                *(procs.worker(f"w{n}", env, concurrency=concurrency) for n in range(workers))
            )
            cpu = sum(cpu_seconds(c.pid) for c in children), cpu_seconds(sim.pid)
            started = time.perf_counter()
            run_ids = [(await start_sync(rt, caller, conn))[0].id for caller, conn in ready]
            async with asyncio.timeout(RUN_TIMEOUT):
                await asyncio.gather(*(runner_of(rt).wait(i, poll=0.05) for i in run_ids))
            wall = time.perf_counter() - started
            worker_cpu = sum(cpu_seconds(c.pid) for c in children) - cpu[0]
            sim_cpu = cpu_seconds(sim.pid) - cpu[1]
            runs = await SyncRun.filter(id__in=run_ids).order_by("id")
            pids = [str(c.pid) for c in children]
            per_worker = [sum(1 for r in runs if r.worker.endswith(f":{p}")) for p in pids]
    finally:
        await close_database()
        await _drop_database(url)
        redis = Redis.from_url(REDIS_URL)
        keys = [k async for k in redis.scan_iter(match=f"{prefix}*")]
        if keys:
            await redis.delete(*keys)
        await redis.aclose()
    users = sum(r.created for r in runs)
    engine = [
        (r.finished_at - r.started_at).total_seconds()
        for r in runs
        if r.started_at and r.finished_at
    ]
    return Outcome(
        config=f"{workers}x{concurrency}",
        workers=workers,
        concurrency=concurrency,
        wall_s=round(wall, 2),
        users=users,
        users_per_s=round(users / wall),
        engine_s=[round(s, 2) for s in engine],
        runs_per_worker=per_worker,
        statuses=[r.status.value for r in runs],
        errors=sorted({r.error_message for r in runs if r.error_message}),
        worker_cpu_s=round(worker_cpu, 2),
        sim_cpu_s=round(sim_cpu, 2),
    )


def _table(outcomes: list[Outcome], args: argparse.Namespace) -> str:
    """One row per configuration: the median over rounds, and every round's wall time."""
    by_config: dict[str, list[Outcome]] = {}
    for o in outcomes:
        by_config.setdefault(o.config, []).append(o)
    medians = {c: statistics.median(o.wall_s for o in os_) for c, os_ in by_config.items()}
    base = next(iter(medians.values()))
    lines = [
        f"{args.tenants} tenants x {args.users:,} users, page delay {args.page_delay:g} s, "
        f"{args.rounds} round(s), {os.cpu_count()} CPUs, Python {platform.python_version()}",
        "",
        "| workers x runs each | wall s (median) | users/s | speed-up vs first | "
        "wall s per round | engine s per run (min-max) | worker CPU s | simulator CPU s | "
        "runs per worker | all succeeded |",
        "|---|---:|---:|---:|---|---|---:|---:|---|---|",
    ]
    for config, runs in by_config.items():
        wall = medians[config]
        engine = [s for o in runs for s in o.engine_s]
        ok = all(s == "SUCCEEDED" for o in runs for s in o.statuses)
        lines.append(
            f"| {config} | {wall:.1f} | {round(runs[0].users / wall):,} | {base / wall:.2f}x | "
            f"{', '.join(f'{o.wall_s:.1f}' for o in runs)} | "
            f"{min(engine):.1f}-{max(engine):.1f} | "
            f"{statistics.median(o.worker_cpu_s for o in runs):.1f} | "
            f"{statistics.median(o.sim_cpu_s for o in runs):.1f} | {runs[-1].runs_per_worker} | "
            f"{'yes' if ok else 'NO: ' + '; '.join(e for o in runs for e in o.errors)} |"
        )
    return "\n".join(lines)


async def bench(args: argparse.Namespace) -> list[Outcome]:
    async with Processes(Path(tempfile.mkdtemp(prefix="entrasync-sim-"))) as procs:
        port = free_port()
        sim_url = f"http://{HOST}:{port}"
        sim = await procs.simulator(port, users=args.users, tenants=args.tenants)
        async with aiohttp.ClientSession() as http:
            tenants = await _sim_json(http, f"{sim_url}/_sim/tenants")
            await _sim_json(http, f"{sim_url}/_sim/faults", {"page_delay": args.page_delay})
        domains = [str(t["domain"]) for t in tenants]
        outcomes = []
        configs = _parse_configs(args.configs)
        for n in range(args.rounds):
            # Alternate the order (ABCD, DCBA, ...): a machine getting busier or quieter during
            # the benchmark then weighs on every configuration alike.
            for config in configs if n % 2 == 0 else configs[::-1]:
                print(f"round {n + 1}: {config[0]}x{config[1]} ...", file=sys.stderr, flush=True)
                outcomes.append(await _measure(config, sim, sim_url, domains))
    return outcomes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scale_bench", description=__doc__)
    parser.add_argument("--tenants", type=int, default=4)
    parser.add_argument("--users", type=int, default=25_000, help="users per tenant")
    parser.add_argument("--configs", default="1x1,2x1,4x1,1x4", help="WORKERSxRUNS, ...")
    parser.add_argument("--page-delay", type=float, default=0.0, help="seconds per Graph page")
    parser.add_argument("--rounds", type=int, default=2, help="measure each configuration N times")
    parser.add_argument("--quick", action="store_true", help="CI smoke: 4 x 2,000 users")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)
    if args.quick:
        args.users, args.configs, args.rounds = 2_000, "1x1,2x1", 1
    outcomes = asyncio.run(bench(args))
    print(_table(outcomes, args))
    if args.json:
        Path(args.json).write_text(json.dumps([asdict(o) for o in outcomes], indent=2))
    return 0 if all(s == "SUCCEEDED" for o in outcomes for s in o.statuses) else 1


if __name__ == "__main__":
    raise SystemExit(main())
