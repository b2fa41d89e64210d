"""The import benchmark's tables: figures per database, then each target as PASS or MISS."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

NAIVE_FACTOR = 50.0  # the import's users/s over the naive loop's, at least
FLOOR_FACTOR = 4.0  # the import's time over the raw floor's, at most
RESYNC_SHARE = 0.5  # unchanged re-sync time over import time, at most
MEMORY_MB = 400.0  # peak RSS for 100,000 users, under
DELAY_FACTOR = 1.2  # import time over fetch-only time with 200 ms per page, at most


def _phase(d: dict[str, Any], name: str, kind: str = "timed") -> dict[str, Any]:
    return next(p for p in d[kind]["phases"] if p["name"] == name)


def _row(label: str, dialects: dict[str, Any], cell: Callable[[dict[str, Any]], str]) -> str:
    cells = []
    for d in dialects.values():
        try:
            cells.append(cell(d))
        except (KeyError, StopIteration, TypeError, ZeroDivisionError):
            cells.append("n/a")
    return f"| {label} | " + " | ".join(cells) + " |"


def _counters(p: dict[str, Any]) -> str:
    c = p["counters"]
    skipped = c["skipped_filter"] + c["skipped_unmapped"]
    text = (
        f"fetched {c['fetched']:,}, created {c['created']:,}, updated {c['updated']:,}, "
        f"unchanged {c['unchanged']:,}, skipped {skipped:,}, errors {c['errors']:,}"
    )
    if c.get("removed"):
        text += f", removed {c['removed']:,}"
    if p["status"] != "SUCCEEDED":
        text += f" — **{p['status']}**: {p['error']}"
    return text


def _writes(w: dict[str, int] | None) -> str:
    if w is None:
        return "n/a"
    return f"{sum(w.values()):,} ({', '.join(f'{k} {v:,}' for k, v in w.items() if v) or 'none'})"


def _triggers(p: dict[str, Any]) -> dict[str, int]:
    return {k.lower() + "d": v for k, v in (p["trigger_writes"] or {}).items()}


def _sql(p: dict[str, Any], users: int) -> str:
    s = p["statements"]
    return (
        f"{1000 * s['calls'] / users:.1f} ({s['calls']:,} calls, "
        f"{s['executemany_rows']:,} rows via executemany)"
    )


def _naive_rate(d: dict[str, Any], key: str = "naive") -> float:
    n = d["timed"][key]
    return float(n["users"] / n["s"])


def _floor_time(d: dict[str, Any]) -> str:
    f = d["timed"]["floor"]
    return f"{f['s']:.2f} s for {f['rows']:,} rows ({f['rows'] / f['s']:,.0f} rows/s)"


def _wall(d: dict[str, Any], name: str) -> str:
    p, imp = _phase(d, name), _phase(d, "import")
    return f"**{p['wall_s']:.2f} s** ({p['wall_s'] / imp['wall_s']:.2f}x the import; {p['mode']})"


def _written(d: dict[str, Any], name: str) -> str:
    digests = _writes(_phase(d, name)["rows_written"])
    return f"{digests} / {_writes(_triggers(_phase(d, name, 'instrumented')))}"


def _resync_rows(
    name: str, label: str, users: int
) -> list[tuple[str, Callable[[dict[str, Any]], str]]]:
    def wall(d: dict[str, Any]) -> str:
        return _wall(d, name)

    def counters(d: dict[str, Any]) -> str:
        return _counters(_phase(d, name))

    def written(d: dict[str, Any]) -> str:
        return _written(d, name)

    def sql(d: dict[str, Any]) -> str:
        return _sql(_phase(d, name, "instrumented"), users)

    return [
        (f"**{label}**", wall),
        ("counters", counters),
        ("end_user rows written (row digests / triggers)", written),
        ("SQL statements per 1,000 tenant users", sql),
    ]


RESYNCS = (
    ("resync_full", "Re-sync, unchanged, full round"),
    ("resync_delta", "Re-sync, unchanged, delta round (the product's default)"),
    ("delta_1pct", "Re-sync after 1% changed, delta round"),
    ("full_1pct", "Re-sync after 1% changed (again), full round"),
)


def figures(results: dict[str, Any]) -> list[str]:
    dialects = results["dialects"]
    users = results["users"]
    head = "| | " + " | ".join(_NAMES[k] for k in dialects)
    lines = [head + " |", "|---|" + "---|" * len(dialects)]

    def imp(d: dict[str, Any]) -> dict[str, Any]:
        return _phase(d, "import")

    def imp_i(d: dict[str, Any]) -> dict[str, Any]:
        return _phase(d, "import", "instrumented")

    rows: list[tuple[str, Callable[[dict[str, Any]], str]]] = [
        ("**Import** into an empty database", lambda d: f"**{imp(d)['wall_s']:.2f} s, {imp(d)['users_per_s']:,.0f} users/s** ({imp(d)['mode']})"),
        ("import: the run's counters", lambda d: _counters(imp(d))),
        ("import: SQL statements per 1,000 tenant users", lambda d: _sql(imp_i(d), users)),
    ]  # fmt: skip
    for name, label in RESYNCS:
        rows += _resync_rows(name, label, users)
    rows += [
        ("Fetch only (same client and $select, parsed, nothing written)", lambda d: f"{d['timed']['fetch']['s']:.2f} s, {d['timed']['fetch']['pages']} pages ({d['timed']['fetch']['users'] / d['timed']['fetch']['s']:,.0f} users/s)"),
        (f"Naive ORM loop, {results['naive_slice']:,}-user slice, autocommit", lambda d: f"{_naive_rate(d):,.0f} users/s (⇒ {users / _naive_rate(d):,.0f} s for {users:,})"),
        ("Naive loop + a change-log row per user (the engine's work, naively)", lambda d: f"{_naive_rate(d, 'naive_with_log'):,.0f} users/s"),
        ("Raw floor: end_user executemany, 1 txn", _floor_time),
        ("Raw floor incl. the change log (R8) rows", lambda d: f"{d['timed']['floor_with_log']['s']:.2f} s for {d['timed']['floor_with_log']['rows']:,} rows"),
        ("Peak RSS (ru_maxrss) after setup / the import / each re-sync in order", lambda d: " / ".join([f"{d['timed']['rss_before_import_mb']:.0f}", *(f"{p['peak_rss_mb']:.0f}" for p in d["timed"]["phases"])]) + " MB"),
        ("Peak RSS of the whole timed pass (with the references)", lambda d: f"{d['timed']['peak_rss_mb']:.0f} MB"),
        ("tracemalloc peak during the import (instrumented pass)", lambda d: f"{imp_i(d)['tracemalloc_peak_mb']:.0f} MB"),
        ("1-minute load average at the import / naive loop / raw floor (2 vCPUs)", lambda d: f"{imp(d)['extra']['load']:.1f} / {d['timed']['naive']['load']:.1f} / {d['timed']['floor']['load']:.1f}"),
        ("Instrumented pass wall times, in SEQUENCE order", lambda d: " / ".join(f"{p['wall_s']:.2f}" for p in d["instrumented"]["phases"]) + " s"),
        ("With 200 ms per page: fetch only (before, after) / import", lambda d: f"{d['delay']['fetch_s'][0]:.2f}, {d['delay']['fetch_s'][1]:.2f} s / {d['delay']['import']['wall_s']:.2f} s ({d['delay']['pages']} pages)"),
    ]  # fmt: skip
    lines += [_row(label, dialects, cell) for label, cell in rows]
    return lines


_NAMES = {"sqlite": "SQLite", "postgres": "PostgreSQL"}


def _verdict(ok: bool, text: str) -> str:
    return f"{'PASS' if ok else '**MISS**'} ({text})"


def targets(results: dict[str, Any]) -> list[str]:
    dialects = results["dialects"]
    users = results["users"]
    head = "| target | " + " | ".join(_NAMES[k] for k in dialects)
    lines = [head + " |", "|---|" + "---|" * len(dialects)]

    def naive(d: dict[str, Any]) -> str:
        rate = _phase(d, "import")["users_per_s"]
        r, with_log = rate / _naive_rate(d), rate / _naive_rate(d, "naive_with_log")
        return _verdict(r >= NAIVE_FACTOR, f"{r:.1f}x; {with_log:.1f}x the naive loop with log")

    def floor(d: dict[str, Any]) -> str:
        r = _phase(d, "import")["wall_s"] / d["timed"]["floor"]["s"]
        return _verdict(r <= FLOOR_FACTOR, f"{r:.1f}x")

    def zero(name: str) -> Callable[[dict[str, Any]], str]:
        def check(d: dict[str, Any]) -> str:
            a = sum(_phase(d, name)["rows_written"].values())
            b = sum(_phase(d, name, "instrumented")["trigger_writes"].values())
            return _verdict(a == 0 and b == 0, f"{a} / {b} rows")

        return check

    def half(name: str) -> Callable[[dict[str, Any]], str]:
        def check(d: dict[str, Any]) -> str:
            r = _phase(d, name)["wall_s"] / _phase(d, "import")["wall_s"]
            return _verdict(r <= RESYNC_SHARE, f"{r:.2f}x")

        return check

    def memory(name: str | None) -> Callable[[dict[str, Any]], str]:
        def check(d: dict[str, Any]) -> str:
            phases = d["timed"]["phases"]
            if name is not None:  # ru_maxrss only grows: the peak up to the end of that phase
                mb = _phase(d, name)["peak_rss_mb"]
            else:
                mb = max(p["peak_rss_mb"] for p in phases)
            note = "" if users == 100_000 else f" at {users:,} users"
            return _verdict(mb < MEMORY_MB, f"{mb:.0f} MB{note}")

        return check

    def delay(d: dict[str, Any]) -> str:
        fetch = sum(d["delay"]["fetch_s"]) / 2
        r = d["delay"]["import"]["wall_s"] / fetch
        return _verdict(r <= DELAY_FACTOR, f"{r:.2f}x")

    def exact(name: str) -> Callable[[dict[str, Any]], str]:
        def check(d: dict[str, Any]) -> str:
            p = _phase(d, name)
            want, got = p["extra"]["changed_in_entra"], p["counters"]["updated"]
            rows = sum(p["rows_written"].values())
            return _verdict(got == want == rows, f"updated {got:,}, wrote {rows:,} of {want:,}")

        return check

    checks: list[tuple[str, Callable[[dict[str, Any]], str]]] = [
        (f"import users/s ≥ {NAIVE_FACTOR:.0f}x the naive loop's", naive),
        (f"import time ≤ {FLOOR_FACTOR:.0f}x the raw floor's", floor),
        ("unchanged full re-sync writes 0 end_user rows (digests / triggers)", zero("resync_full")),
        ("unchanged delta re-sync writes 0 end_user rows", zero("resync_delta")),
        (f"unchanged full re-sync ≤ {RESYNC_SHARE}x the import's time", half("resync_full")),
        (f"unchanged delta re-sync ≤ {RESYNC_SHARE}x the import's time", half("resync_delta")),
        (f"peak RSS < {MEMORY_MB:.0f} MB for 100,000 users: the import", memory("import")),
        ("... and every sync of the sequence (full re-syncs included)", memory(None)),
        (f"200 ms/page: import ≤ {DELAY_FACTOR}x fetch only", delay),
        ("1% delta re-sync updates exactly the changed users", exact("delta_1pct")),
        ("1% full re-sync updates exactly the changed users", exact("full_1pct")),
    ]
    lines += [_row(label, dialects, cell) for label, cell in checks]
    return lines


def report(results: dict[str, Any]) -> None:
    env = results["environment"]
    versions = ", ".join(f"{k} {v}" for k, v in env["versions"].items())
    print(
        f"\n{results['users']:,} users; {env['date']}; Python {env['python']}, {env['cpus']} CPUs; "
        f"{versions}; benchmark took {results['bench_s']:.0f} s; load average "
        f"{env['load'][0]:.1f} before, {env['load'][1]:.1f} after"
    )
    if env["page_delay_users"] is not None:
        print(f"page-delay check at {env['page_delay_users']:,} users")
    print(f"code: {env['code']}")
    print(f"command: {env['command']}\n")
    print("\n".join(figures(results)))
    print()
    print("\n".join(targets(results)))
