"""Import benchmark: a simulated tenant imported, re-synced unchanged, then re-synced after 1% changed.

Run from the repository root: `python -m bench.import_bench [--users N] [--db sqlite|postgres|both]
[--page-delay-check]`, or `--quick` as a CI smoke run. The simulator runs as its own process;
each measured pass runs in a fresh child process of its own, so the peak memory reported is
that pass's alone. Prints figures, the in-run references (a naive ORM loop, the raw-driver
floor, fetching alone) and PASS/MISS per target. Never a timed assertion: exits 0 on a MISS.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
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

import aiohttp

from bench import import_report
from bench.import_db import Databases, install_write_triggers, pg_reachable, trigger_counts
from bench.import_refs import capture, fetch_only, naive_loop, raw_floor
from bench.import_run import Phase, Product, peak_rss_mb, product, sync_once, users_to_change
from bench.import_sim import ROOT, change_users, set_page_delay, simulator

PAGE_DELAY = 0.2
CHILD_TIMEOUT = 3600.0


# --- child passes (each in its own process) -------------------------------------------------


# (phase, forced full round, tag of the 1% change made just before it). After the import (a
# full round: no delta link yet) the product's own choice for a re-sync is a delta round (R9);
# a full round runs when one is due (daily by default), and both are measured.
SEQUENCE: tuple[tuple[str, bool, str | None], ...] = (
    ("import", False, None),
    ("resync_full", True, None),
    ("resync_delta", False, None),
    ("delta_1pct", False, "a"),
    ("full_1pct", True, "b"),
)


async def _sequence(a: argparse.Namespace, p: Product, *, instrumented: bool) -> list[Phase]:
    """Every phase of SEQUENCE on one product database; the 1% changes go through the
    simulator's admin API to the same users each time, with new values (each really changes)."""
    phases: list[Phase] = []
    changed: list[str] = []
    async with aiohttp.ClientSession() as http:
        for name, full, tag in SEQUENCE:
            if tag is not None:
                changed = changed or await users_to_change(p)
                await change_users(http, a.sim, changed, ("i" if instrumented else "t") + tag)
            if instrumented:
                before = await trigger_counts()
                phase = await sync_once(
                    p, name, full=full, count_sql=True, trace_memory=name == "import"
                )
                after = await trigger_counts()
                phase.trigger_writes = {op: after[op] - before[op] for op in after}
                assert phase.statements is not None
                detail = f"{phase.statements['calls']} SQL statements"
            else:
                phase = await sync_once(p, name, full=full, snapshot_rows=name != "import")
                detail = f"{phase.wall_s:.2f} s"
            if tag is not None:
                phase.extra["changed_in_entra"] = len(changed)
            phases.append(phase)
            _say(a, f"{name} ({phase.mode}): {detail}; {phase.counters}")
    return phases


async def timed_pass(a: argparse.Namespace) -> dict[str, Any]:
    """Clean timings: no SQL logging, no triggers, no tracemalloc. Then the references."""
    url, naive_url, naive_log_url, floor_url, floor_log_url = a.urls
    out: dict[str, Any] = {}
    async with product(url, a.sim, Path(a.tmp)) as p:
        out["sites"], out["offices"] = p.sites, p.offices
        out["rss_before_import_mb"] = peak_rss_mb()
        phases = await _sequence(a, p, instrumented=False)
        out["rss_after_import_mb"] = phases[0].peak_rss_mb  # taken as the import ended
        out["phases"] = [ph.as_dict() for ph in phases]
        _say(a, "fetch only")
        secs, users, pages, kept = await fetch_only(p, keep=a.naive)
        out["fetch"] = {"s": secs, "users": users, "pages": pages}
        captured = await capture(p, phases[0].run_id)
    _say(a, f"naive loop on {len(kept)} users, without and with change-log rows")
    secs, n = await naive_loop(naive_url, captured, kept)
    out["naive"] = {"s": secs, "users": n, "load": round(os.getloadavg()[0], 2)}
    secs, n = await naive_loop(naive_log_url, captured, kept, with_change_log=True)
    out["naive_with_log"] = {"s": secs, "users": n}
    _say(a, "raw floor")
    secs, n = await raw_floor(floor_url, p.dialect, captured, with_change_log=False)
    out["floor"] = {"s": secs, "rows": n, "load": round(os.getloadavg()[0], 2)}
    secs, n = await raw_floor(floor_log_url, p.dialect, captured, with_change_log=True)
    out["floor_with_log"] = {"s": secs, "rows": n}
    return out


async def instrumented_pass(a: argparse.Namespace) -> dict[str, Any]:
    """The same sequence on a fresh database, counted: SQL statements from Tortoise's debug log,
    row triggers on end_user, tracemalloc during the import. Its timings are not the
    benchmark's; they show what the instruments cost."""
    (url,) = a.urls
    async with product(url, a.sim, Path(a.tmp)) as p:
        await install_write_triggers(p.dialect)
        phases = await _sequence(a, p, instrumented=True)
    return {"phases": [ph.as_dict() for ph in phases]}


async def delay_pass(a: argparse.Namespace) -> dict[str, Any]:
    """With the simulator sleeping PAGE_DELAY per Graph page: fetch alone, import, fetch again."""
    (url,) = a.urls
    out: dict[str, Any] = {"page_delay": PAGE_DELAY}
    async with product(url, a.sim, Path(a.tmp)) as p, aiohttp.ClientSession() as http:
        await set_page_delay(http, a.sim, PAGE_DELAY)
        try:
            secs, users, pages, _ = await fetch_only(p)
            _say(a, f"fetch only with delay: {secs:.2f} s, {pages} pages; import")
            imp = await sync_once(p, "import_delayed")
            again, _, _, _ = await fetch_only(p)
        finally:
            await set_page_delay(http, a.sim, 0.0)
        out["fetch_s"] = [secs, again]
        out["users"], out["pages"] = users, pages
        out["import"] = imp.as_dict()
    return out


PASSES = {"timed": timed_pass, "instrumented": instrumented_pass, "delay": delay_pass}


def _say(a: argparse.Namespace, text: str) -> None:
    print(f"    [{a.label}] {text}", file=sys.stderr, flush=True)


def run_child(a: argparse.Namespace) -> int:
    result = asyncio.run(PASSES[a.child](a))
    result["peak_rss_mb"] = peak_rss_mb()
    Path(a.out).write_text(json.dumps(result))
    return 0


# --- parent -----------------------------------------------------------------------------------


def child(kind: str, label: str, sim: str, urls: list[str], a: argparse.Namespace) -> Any:
    """Run one pass in a fresh interpreter; its JSON result, or RuntimeError when it failed."""
    out = Path(a.tmp) / f"{label}-{kind}.json"
    cmd = [
        sys.executable,
        "-m",
        "bench.import_bench",
        "--child",
        kind,
        "--label",
        label,
        "--sim",
        sim,
        "--tmp",
        a.tmp,
        "--out",
        str(out),
        "--naive",
        str(a.naive),
        *[x for u in urls for x in ("--url", u)],
    ]
    print(f"  {label}: {kind} pass", flush=True)
    began = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, timeout=CHILD_TIMEOUT, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"the {kind} pass on {label} failed (exit {done.returncode})")
    result = json.loads(out.read_text())
    result["process_s"] = time.perf_counter() - began
    return result


def bench_dialect(dialect: str, sims: dict[str, str], a: argparse.Namespace) -> dict[str, Any]:
    dbs = Databases(dialect, Path(a.tmp))
    try:
        dbs.prepare()
        fresh = dbs.fresh
        out = {
            "timed": child(
                "timed",
                dialect,
                sims["main"],
                [fresh(x) for x in ("import", "naive", "naivelog", "floor", "floorlog")],
                a,
            ),
            "instrumented": child("instrumented", dialect, sims["main"], [fresh("counted")], a),
        }
        if a.page_delay_check:
            out["delay"] = child("delay", dialect, sims["delay"], [fresh("delayed")], a)
        return out
    finally:
        dbs.drop_all()


def code_fingerprint() -> str:
    """The commit, and a digest of the sync engine and Graph client sources as measured (the
    working tree may hold changes not committed yet)."""
    digest = hashlib.sha256()
    for path in sorted([*ROOT.glob("services/sync/*.py"), *ROOT.glob("entra/*.py")]):
        digest.update(path.name.encode() + path.read_bytes())
    head = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return f"commit {head or '?'} + services/sync, entra/ sha256 {digest.hexdigest()[:12]}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.import_bench", description=__doc__)
    parser.add_argument("--users", type=int, default=100_000, help="users in the tenant")
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--naive", type=int, default=5_000, help="users in the naive loop's slice")
    parser.add_argument("--quick", action="store_true", help="CI smoke: 5,000 users, SQLite")
    parser.add_argument(
        "--page-delay-check",
        action="store_true",
        help=f"also import with {PAGE_DELAY * 1000:.0f} ms per Graph page against fetching alone",
    )
    parser.add_argument(
        "--page-delay-users", type=int, help="tenant size for that check (default: --users)"
    )
    parser.add_argument("--json", help="also write every figure to this file")
    parser.add_argument("--report", help="print the tables of an earlier --json file, run nothing")
    # Internal: how the parent starts each pass.
    for name in ("--child", "--label", "--sim", "--tmp", "--out"):
        parser.add_argument(name, help=argparse.SUPPRESS)
    parser.add_argument("--url", action="append", dest="urls", help=argparse.SUPPRESS)
    a = parser.parse_args(argv)
    if a.child:
        return run_child(a)
    if a.report:
        import_report.report(json.loads(Path(a.report).read_text()))
        return 0
    if a.quick:
        a.users, a.naive = 5_000, min(a.naive, 1_000)
        if "--db" not in (argv if argv is not None else sys.argv):
            a.db = "sqlite"
    if a.users < 100 or a.naive < 1:
        parser.error("--users must be at least 100 and --naive positive")
    dialects = ["sqlite", "postgres"] if a.db == "both" else [a.db]
    if "postgres" in dialects and not pg_reachable():
        if a.db == "postgres":
            parser.error("PostgreSQL is not reachable on 127.0.0.1:5432")
        print("PostgreSQL is not reachable on 127.0.0.1:5432: SQLite only", flush=True)
        dialects.remove("postgres")
    delay_users = a.page_delay_users or a.users

    # SIGTERM ends the run like Ctrl-C, so the simulator and the databases are cleaned up.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    results: dict[str, Any] = {"users": a.users, "naive_slice": a.naive, "dialects": {}}
    load_before = os.getloadavg()
    began = time.perf_counter()
    with (
        tempfile.TemporaryDirectory(prefix="entrasync-import-") as tmp,
        contextlib.ExitStack() as stack,
    ):
        a.tmp = tmp
        print(f"starting the simulator with {a.users:,} users", flush=True)
        sims = {"main": stack.enter_context(simulator(a.users)).base_url}
        if a.page_delay_check:
            sims["delay"] = sims["main"]
            if delay_users != a.users:
                sims["delay"] = stack.enter_context(simulator(delay_users)).base_url
        for dialect in dialects:
            results["dialects"][dialect] = bench_dialect(dialect, sims, a)
    results["bench_s"] = time.perf_counter() - began
    results["environment"] = {
        "date": time.strftime("%Y-%m-%d"),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "versions": {
            p: version(p) for p in ("tortoise-orm", "aiosqlite", "asyncpg", "aiohttp", "msal")
        },
        "page_delay_users": delay_users if a.page_delay_check else None,
        # Other work on the box skews timings: the 1-minute load average before and after.
        "load": [round(load_before[0], 2), round(os.getloadavg()[0], 2)],
        "code": code_fingerprint(),
        "command": "python -m bench.import_bench "
        + " ".join(sys.argv[1:] if argv is None else argv),
    }
    if a.json:
        Path(a.json).write_text(json.dumps(results, indent=1))
    import_report.report(results)
    return 0  # a benchmark informs; it never fails CI on timing


if __name__ == "__main__":
    raise SystemExit(main())
