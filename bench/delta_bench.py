"""Incremental sync benchmark (R9): a full re-sync against a delta run after 100 changes in Entra.

Run from the repository root: `python -m bench.delta_bench [--users N] [--changes N]
[--db sqlite|postgres|both]`, or `--quick` as a CI smoke run (5,000 users, SQLite). The simulator
runs as its own process (bench/import_sim.py); each database's pass runs in a fresh child
process. A pass imports the tenant (FULL), re-syncs it in full (the reference), runs a delta
round with nothing changed, changes `--changes` users through the simulator's admin API (a new
jobTitle and phone each) and runs the delta round that applies them; then once more, counting
SQL statements; then a full round read from a fresh /users/delta round (as when Graph refuses
`$deltatoken=latest`). It also times the pieces: paging /users against a fresh delta round,
loading the whole scope index against the rows a delta batch touches. Prints the figures and
PASS/MISS for the target (delta under 2% of the full re-sync). Never a timed assertion.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import aiohttp

from bench.import_bench import code_fingerprint
from bench.import_db import Databases, pg_reachable
from bench.import_run import Phase, Product, peak_rss_mb, product, sync_once, users_to_change
from bench.import_sim import ROOT, change_users, set_page_delay, simulator
from entra.types import USER_SELECT
from models import EndUser, SyncRun, TenantConnection
from services.connections import graph_for
from services.sync.delta import ids_to_look_up, request_full_round
from services.sync.scope import load_index, load_touched
from services.wizard import sync_config

PAGE_DELAY = 0.05  # seconds per Graph page for the fetch-only comparison at Graph-like latency
TARGET_SHARE = 0.02  # a delta run after 100 changes, over a full re-sync, at most
CHILD_TIMEOUT = 3600.0
_REFUSE_LATEST = {
    "script": [
        {
            "prefix": "/v1.0/users/delta",
            "faults": [
                {
                    "status": 400,
                    "body": {"error": {"code": "Request_UnsupportedQuery", "message": "no"}},
                }
            ],
        }
    ]
}


# --- the child pass ---------------------------------------------------------------------------


async def run_pass(a: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {}
    async with product(a.url, a.sim, Path(a.tmp)) as p, aiohttp.ClientSession() as http:
        _say(a, "import (full round)")
        phases = [await sync_once(p, "import")]
        _say(a, f"import: {phases[0].wall_s:.2f} s; full re-sync")
        await request_full_round(p.connection_id)
        phases.append(await sync_once(p, "full_resync"))
        _say(a, f"full re-sync: {phases[1].wall_s:.2f} s; delta with nothing changed")
        phases.append(await sync_once(p, "delta_unchanged"))
        for name, tag, count_sql in (("delta_changes", "d", False), ("delta_counted", "c", True)):
            changed = await _users_to_change(p, a.changes, offset=0 if tag == "d" else 1)
            await change_users(http, a.sim, changed, tag)
            since = await _request_count(http, a.sim)
            phase = await sync_once(p, name, count_sql=count_sql, snapshot_rows=True)
            phase.extra["changed_in_entra"] = len(changed)
            phase.extra["graph_requests"] = await _requests_since(http, a.sim, since)
            phases.append(phase)
            _say(a, f"{name}: {phase.wall_s:.3f} s {phase.counters}")
        _say(a, "pieces: scope index, touched rows, look-ups, paging")
        out["pieces"] = await pieces(p, a.changes)
        out["paging"] = await paging(p)
        # Graph answers a page in 100s of ms, not the simulator's few: fetching alone with a
        # fixed delay per page shows what five times the requests cost at that latency.
        await set_page_delay(http, a.sim, PAGE_DELAY)
        try:
            out["paging_delayed"] = await paging(p, repeats=1)
        finally:
            await set_page_delay(http, a.sim, 0.0)
        out["paging_delayed"]["page_delay"] = PAGE_DELAY
        _say(a, "full round read from a fresh delta round")
        async with http.post(f"{a.sim}/_sim/faults", json=_REFUSE_LATEST) as resp:
            resp.raise_for_status()
        await request_full_round(p.connection_id)
        phases.append(await sync_once(p, "full_resync_from_delta_pages"))
        out["phases"] = [await _described(x) for x in phases]
    return out


async def _users_to_change(p: Product, count: int, offset: int) -> list[str]:
    imported = await EndUser.filter(entra_object_id__not_isnull=True).count()
    ids = await users_to_change(p, share=min(1.0, count / max(1, imported)))
    return ids[offset::2][:count] if len(ids) >= 2 * count else ids[:count]


async def _described(phase: Phase) -> dict[str, Any]:
    run = await SyncRun.get(id=phase.run_id)
    out = phase.as_dict()
    out["mode"] = None if run.mode is None else run.mode.value
    out["mode_reason"] = run.mode_reason
    return out


async def _request_count(http: aiohttp.ClientSession, sim: str) -> int:
    async with http.get(f"{sim}/_sim/requests") as resp:
        resp.raise_for_status()
        return len(await resp.json())


async def _requests_since(http: aiohttp.ClientSession, sim: str, since: int) -> dict[str, int]:
    """Graph requests by path (`/users` look-ups by id counted apart)."""
    async with http.get(f"{sim}/_sim/requests", params={"since": str(since)}) as resp:
        resp.raise_for_status()
        records = await resp.json()
    counts: dict[str, int] = {}
    for r in records:
        path = str(r["path"])
        if path == "/v1.0/users" and "id in" in unquote(str(r["query"])):
            path += " (by id)"
        counts[path] = counts.get(path, 0) + 1
    return counts


async def _best(repeats: int, work: Any) -> float:
    best = float("inf")
    for _ in range(repeats):
        began = time.perf_counter()
        await work()
        best = min(best, time.perf_counter() - began)
    return best


async def pieces(p: Product, changes: int) -> dict[str, Any]:
    """What a delta run avoids and what it pays: the whole index against the touched rows."""
    conn = await TenantConnection.get(id=p.connection_id)
    config = await sync_config(conn)
    rows = await EndUser.filter(entra_object_id__not_isnull=True).limit(changes)
    ids = [str(r.entra_object_id) for r in rows]
    keys = {r.email_key for r in rows}
    size = len(await load_index(conn))
    whole = await _best(3, lambda: load_index(conn))
    touched = await _best(5, lambda: load_touched(conn, ids, keys))
    lookups = await _best(5, lambda: ids_to_look_up(conn, config, None))
    return {
        "scope_users": size,
        "index_load_s": whole,
        "touched_rows_load_s": touched,
        "touched_ids": len(ids),
        "lookups_query_s": lookups,
    }


async def paging(p: Product, repeats: int = 2) -> dict[str, Any]:
    """Fetching alone, parsed, nothing written: /users (999 a page), a fresh /users/delta round
    (the simulator's 200 a page, as Graph's), and `$deltatoken=latest`."""
    conn = await TenantConnection.get(id=p.connection_id)
    out: dict[str, Any] = {"users": [], "delta": [], "latest_ms": []}
    async with graph_for(p.rt, conn) as graph:
        for _ in range(repeats):
            began, users, pages = time.perf_counter(), 0, 0
            async for page in graph.iter_user_pages():
                users, pages = users + len(page), pages + 1
            out["users"].append({"s": time.perf_counter() - began, "users": users, "pages": pages})
            began, users, pages = time.perf_counter(), 0, 0
            async for dpage in graph.delta_pages(None):
                users, pages = users + len(dpage.users), pages + 1
            out["delta"].append({"s": time.perf_counter() - began, "users": users, "pages": pages})
            began = time.perf_counter()
            latest = (
                f"{p.rt.graph_url}/users/delta?$select={','.join(USER_SELECT)}&$deltatoken=latest"
            )
            async for _page in graph.delta_pages(latest):
                pass
            out["latest_ms"].append(1000 * (time.perf_counter() - began))
    return out


def _say(a: argparse.Namespace, text: str) -> None:
    print(f"    [{a.label}] {text}", file=sys.stderr, flush=True)


# --- parent -----------------------------------------------------------------------------------


def child(dialect: str, sim: str, url: str, a: argparse.Namespace) -> Any:
    out = Path(a.tmp) / f"{dialect}-delta.json"
    cmd = [
        sys.executable,
        "-m",
        "bench.delta_bench",
        "--child",
        "--label",
        dialect,
        "--sim",
        sim,
        "--url",
        url,
        "--tmp",
        a.tmp,
        "--out",
        str(out),
        "--changes",
        str(a.changes),
    ]
    print(f"  {dialect}: pass", flush=True)
    done = subprocess.run(cmd, cwd=ROOT, timeout=CHILD_TIMEOUT, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"the pass on {dialect} failed (exit {done.returncode})")
    return json.loads(out.read_text())


def report(results: dict[str, Any]) -> None:
    print(f"\n{results['users']:,} users, {results['changes']} changed in Entra\n")
    for dialect, d in results["dialects"].items():
        ph = {x["name"]: x for x in d["phases"]}
        full, delta = ph["full_resync"], ph["delta_changes"]
        share = delta["wall_s"] / full["wall_s"]
        print(f"## {dialect}")
        for x in d["phases"]:
            c = x["counters"]
            extra = x["extra"].get("graph_requests", "")
            print(
                f"  {x['name']:<30} {x['mode']:<5} {x['wall_s']:8.3f} s  fetched {c['fetched']:>7,} created "
                f"{c['created']:>7,} updated {c['updated']:>6,} unchanged {c['unchanged']:>7,} "
                f"removed {c['removed']}  {extra}"
            )
            if x.get("statements"):
                print(
                    f"  {'':<30} SQL statements: {x['statements']['calls']} {x['statements']['by_kind']}"
                )
            if x.get("rows_written") is not None:
                print(f"  {'':<30} end_user rows written: {x['rows_written']}")
        pc = d["pieces"]
        print(
            f"  whole scope index ({pc['scope_users']:,} users): {pc['index_load_s']:.3f} s; "
            f"rows touched by {pc['touched_ids']} users: {1000 * pc['touched_rows_load_s']:.1f} ms; "
            f"look-up query (product edits): {1000 * pc['lookups_query_s']:.1f} ms"
        )
        pg = d["paging"]
        print(
            "  fetch only: /users "
            + ", ".join(f"{r['s']:.2f} s ({r['pages']} pages)" for r in pg["users"])
            + "; fresh delta round "
            + ", ".join(f"{r['s']:.2f} s ({r['pages']} pages)" for r in pg["delta"])
            + "; $deltatoken=latest "
            + ", ".join(f"{ms:.1f} ms" for ms in pg["latest_ms"])
        )
        pd = d["paging_delayed"]
        print(
            f"  fetch only, {1000 * pd['page_delay']:.0f} ms per page: /users "
            f"{pd['users'][0]['s']:.2f} s ({pd['users'][0]['pages']} pages); fresh delta round "
            f"{pd['delta'][0]['s']:.2f} s ({pd['delta'][0]['pages']} pages)"
        )
        verdict = "PASS" if share <= TARGET_SHARE else "MISS"
        print(
            f"  delta after {results['changes']} changes / full re-sync: {100 * share:.2f}% "
            f"(target <= {100 * TARGET_SHARE:.0f}%) {verdict}\n"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.delta_bench", description=__doc__)
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--changes", type=int, default=100)
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--quick", action="store_true", help="CI smoke: 5,000 users, SQLite")
    parser.add_argument("--json", help="also write every figure to this file")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    for name in ("--label", "--sim", "--url", "--tmp", "--out"):
        parser.add_argument(name, help=argparse.SUPPRESS)
    a = parser.parse_args(argv)
    if a.child:
        result = asyncio.run(run_pass(a))
        result["peak_rss_mb"] = peak_rss_mb()
        Path(a.out).write_text(json.dumps(result))
        return 0
    if a.quick:
        a.users = 5_000
        if "--db" not in (argv if argv is not None else sys.argv):
            a.db = "sqlite"
    dialects = ["sqlite", "postgres"] if a.db == "both" else [a.db]
    if "postgres" in dialects and not pg_reachable():
        if a.db == "postgres":
            parser.error("PostgreSQL is not reachable on 127.0.0.1:5432")
        print("PostgreSQL is not reachable on 127.0.0.1:5432: SQLite only", flush=True)
        dialects.remove("postgres")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    results: dict[str, Any] = {"users": a.users, "changes": a.changes, "dialects": {}}
    began = time.perf_counter()
    with (
        tempfile.TemporaryDirectory(prefix="entrasync-delta-") as tmp,
        contextlib.ExitStack() as stack,
    ):
        a.tmp = tmp
        print(f"starting the simulator with {a.users:,} users", flush=True)
        sim = stack.enter_context(simulator(a.users)).base_url
        for dialect in dialects:
            dbs = Databases(dialect, Path(tmp))
            try:
                dbs.prepare()
                # A fresh simulator state per dialect would cost a restart; the passes only
                # change users (every pass changes other ones) and read what they need.
                results["dialects"][dialect] = child(dialect, sim, dbs.fresh("delta"), a)
            finally:
                dbs.drop_all()
    results["bench_s"] = time.perf_counter() - began
    results["environment"] = {
        "date": time.strftime("%Y-%m-%d"),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "versions": {p: version(p) for p in ("tortoise-orm", "aiosqlite", "asyncpg", "aiohttp")},
        "code": code_fingerprint(),
        "command": "python -m bench.delta_bench "
        + " ".join(sys.argv[1:] if argv is None else argv),
    }
    if a.json:
        Path(a.json).write_text(json.dumps(results, indent=1))
    report(results)
    return 0  # a benchmark informs; it never fails CI on timing


if __name__ == "__main__":
    raise SystemExit(main())
