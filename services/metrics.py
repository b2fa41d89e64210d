"""Operational metrics in the Prometheus text format: runs, users, Graph traffic, subscriptions.

Run and user figures are read from the database at scrape time, so every process reports the
same totals whichever process ran the syncs; Graph traffic and subscriptions are per process.
No account or tenant appears in a label: the endpoint is for operators, not customers.
"""

from __future__ import annotations

from tortoise.functions import Count, Sum

from entra import metrics as graph_metrics
from models import RunStatus, SyncRun
from services.runtime import Runtime

DURATION_BUCKETS = (1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0)
USER_OUTCOMES = ("created", "updated", "unchanged", "skipped_filter", "skipped_unmapped", "errors")


def _line(name: str, value: float, labels: dict[str, str] | None = None) -> str:
    if labels:
        inner = ",".join(f'{k}="{v}"' for k, v in labels.items())
        return f"{name}{{{inner}}} {value:g}"
    return f"{name} {value:g}"


async def render(rt: Runtime) -> str:
    """The exposition text for one scrape (a handful of aggregate queries)."""
    out: list[str] = []

    out += ["# HELP entrasync_sync_runs Sync runs by status.", "# TYPE entrasync_sync_runs gauge"]
    counted = {
        row["status"]: int(row["n"])
        for row in await SyncRun.annotate(n=Count("id")).group_by("status").values("status", "n")
    }
    for status in RunStatus:
        out.append(
            _line(
                "entrasync_sync_runs",
                counted.get(status.value, counted.get(status, 0)),
                {"status": status.value},
            )
        )

    out += [
        "# HELP entrasync_sync_users_total Users handled by finished real (not dry) runs, by outcome.",
        "# TYPE entrasync_sync_users_total counter",
    ]
    sums = (
        await SyncRun.filter(dry_run=False)
        .annotate(**{f"s_{o}": Sum(o) for o in USER_OUTCOMES})
        .first()
        .values(*(f"s_{o}" for o in USER_OUTCOMES))
    )
    for outcome in USER_OUTCOMES:
        value = (sums or {}).get(f"s_{outcome}") or 0
        out.append(_line("entrasync_sync_users_total", float(value), {"outcome": outcome}))

    out += [
        "# HELP entrasync_sync_run_duration_seconds Wall time of finished runs.",
        "# TYPE entrasync_sync_run_duration_seconds histogram",
    ]
    spans = await SyncRun.filter(
        started_at__not_isnull=True, finished_at__not_isnull=True
    ).values_list("started_at", "finished_at")
    durations = [max(0.0, (end - start).total_seconds()) for start, end in spans]
    for bound in DURATION_BUCKETS:
        out.append(
            _line(
                "entrasync_sync_run_duration_seconds_bucket",
                sum(d <= bound for d in durations),
                {"le": f"{bound:g}"},
            )
        )
    out.append(_line("entrasync_sync_run_duration_seconds_bucket", len(durations), {"le": "+Inf"}))
    out.append(_line("entrasync_sync_run_duration_seconds_sum", round(sum(durations), 3)))
    out.append(_line("entrasync_sync_run_duration_seconds_count", len(durations)))

    requests, retries = graph_metrics.snapshot()
    out += [
        "# HELP entrasync_graph_requests_total Microsoft Graph responses seen by this process, by outcome.",
        "# TYPE entrasync_graph_requests_total counter",
    ]
    for outcome in ("2xx", "4xx", "429", "5xx", "network"):
        out.append(
            _line("entrasync_graph_requests_total", requests.get(outcome, 0), {"outcome": outcome})
        )
    out += [
        "# HELP entrasync_graph_retries_total Graph requests retried after throttling or a transient error.",
        "# TYPE entrasync_graph_retries_total counter",
        _line("entrasync_graph_retries_total", retries),
        "# HELP entrasync_active_subscriptions Open GraphQL subscriptions in this process.",
        "# TYPE entrasync_active_subscriptions gauge",
        _line("entrasync_active_subscriptions", getattr(rt.bus, "total_subscribers", lambda: 0)()),
    ]
    return "\n".join(out) + "\n"
