"""Graph faults during a 20,000-user import (R10): the result equals a clean run's, and no retry
of a throttled request comes before its Retry-After.

The failure beyond the retry budget (FAILED, a clear message, no partial batch) is
tests/services/sync/test_engine_runs.py::test_r10_graph_failure_beyond_retries_fails_the_run_without_a_partial_batch.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from typing import Any

from models import (
    ChangeLogEntry,
    Classification,
    EndUser,
    GroupFilter,
    RunStatus,
    Site,
    SyncRun,
    TenantConnection,
)
from services.caller import Caller
from services.runtime import Runtime
from services.sync.runs import runner_of, start_sync
from services.wizard import ImportSettings, MappingInput, configure_import
from simulator.faults import Fault
from simulator.server import Simulator
from simulator.tenant import SimTenant, generate_tenant
from tests.factories import admin_caller, connect_tenant, make_account
from tests.reliability.graphlog import note_arrivals, retries

USERS = 20_000
DOMAIN = "faults.example"
# What a sync decides about a user, compared per entra_object_id across the two accounts; the
# site is compared by name (each account has its own sites).
SYNCED = (
    "email",
    "email_key",
    "first_name",
    "last_name",
    "job_title",
    "phone",
    "mobile",
    "source",
    "entra_tenant_id",
    "entra_last_email",
    "user_type",
    "account_enabled",
)
COUNTERS = (
    "fetched",
    "created",
    "updated",
    "unchanged",
    "skipped_filter",
    "skipped_unmapped",
    "errors",
    "removed",
    "total",
)
RUN_TIMEOUT = 45.0


def _settings(tenant: SimTenant) -> ImportSettings:
    """ACCOUNT scope routed by office into new sites, users in any group (W1-W5): every Graph
    path of a full round is exercised (users, $count, delta link, groups, transitive members)."""
    offices = sorted({str(u.get("officeLocation") or "Undefined") for u in tenant.users.values()})
    return ImportSettings(
        classification=Classification.OFFICE,
        mappings=tuple(MappingInput(value=v, new_site_name=f"Office {v}") for v in offices),
        group_filter=GroupFilter.ALL_GROUPS,
        user_types=("MEMBER", "GUEST"),
    )


async def _import(rt: Runtime, tenant: SimTenant, name: str) -> tuple[int, SyncRun]:
    """A new account connects the tenant, configures it and imports it: (account id, run)."""
    account = await make_account(name)
    caller = await admin_caller(account)
    conn = await connect_tenant(rt, account, scope="ACCOUNT", login_hint=f"admin@{DOMAIN}")
    await configure_import(rt, caller, conn.id, _settings(tenant))
    return account.account.id, await _run(rt, caller, conn.id)


async def _run(rt: Runtime, caller: Caller, connection_id: int) -> SyncRun:
    """startSync through the service the API calls, and wait for the run's end."""
    conn = await TenantConnection.get(id=connection_id)
    run, created = await start_sync(rt, caller, conn)
    assert created
    await asyncio.wait_for(runner_of(rt).wait(run.id), timeout=RUN_TIMEOUT)
    return await SyncRun.get(id=run.id)


async def _end_users(account_id: int) -> dict[str, tuple[Any, ...]]:
    sites = dict(await Site.filter(account_id=account_id).values_list("id", "name"))
    rows = await EndUser.filter(account_id=account_id).values("entra_object_id", "site_id", *SYNCED)
    table: dict[str, tuple[Any, ...]] = {}
    for row in rows:
        assert row["entra_object_id"] not in table, row
        table[row["entra_object_id"]] = (sites[row["site_id"]], *(row[c] for c in SYNCED))
    return table


async def _change_log(run: SyncRun) -> Counter[tuple[Any, ...]]:
    """What the run decided per Entra user; ids and sites left out (they differ per account)."""
    rows = await ChangeLogEntry.filter(run_id=run.id).values_list(
        "action", "entra_object_id", "email", "reason", "changes"
    )
    return Counter((a, o, e, r, repr(sorted(c.items()))) for a, o, e, r, c in rows)


async def test_r10_faulty_graph_import_equals_a_clean_one_and_honours_retry_after(
    runtime: Runtime, sim: Simulator
) -> None:
    tenant = generate_tenant(seed=20, users=USERS, domain=DOMAIN)
    sim.state.add_tenant(tenant)
    log = note_arrivals(sim)
    faults = sim.state.faults

    # 1. With faults: about 10% of Graph requests throttled (429, fractional Retry-After) or
    # failing (503/504), 1% of responses cut halfway, every page slowed down; and, so that each
    # kind surely happens whatever the order of the concurrent requests, one of each scripted
    # on the first /users requests (delta link, $count, pages).
    account = await make_account("Faulty")
    caller = await admin_caller(account)
    conn = await connect_tenant(runtime, account, scope="ACCOUNT", login_hint=f"admin@{DOMAIN}")
    await configure_import(runtime, caller, conn.id, _settings(tenant))
    faults.set_random(
        throttle_ratio=0.06, error_ratio=0.04, drop_ratio=0.01, retry_after=(0.05, 0.3), seed=1
    )
    faults.page_delay = 0.02
    faults.script(
        "/v1.0/users",
        [
            Fault(429, retry_after=0.25),
            Fault(status=200, drop=True),
            Fault(503),
            Fault(504),
            Fault(429, retry_after=0.125),
        ],
    )
    start = len(log)
    began = time.monotonic()
    faulty = await _run(runtime, caller, conn.id)
    faulty_seconds = time.monotonic() - began
    end = len(log)
    faults.clear()
    assert faulty.status is RunStatus.SUCCEEDED, faulty.error_message

    # 2. The same tenant, clean, into a second account of the same database.
    clean_account, clean = await _import(runtime, tenant, "Clean")
    assert clean.status is RunStatus.SUCCEEDED, clean.error_message

    # The final end_user tables are equal, user by user, and so are the runs' decisions.
    faulty_users = await _end_users(account.account.id)
    clean_users = await _end_users(clean_account)
    assert len(clean_users) > USERS // 2  # the group filter lets most users through
    assert faulty_users == clean_users
    assert {c: getattr(faulty, c) for c in COUNTERS} == {c: getattr(clean, c) for c in COUNTERS}
    assert faulty.fetched == USERS and faulty.created == len(clean_users)
    assert await _change_log(faulty) == await _change_log(clean)

    # The faults really happened: the share of faulted Graph requests, each kind at least once.
    graph = [r for r in log[start:end] if r.path.startswith("/v1.0/")]
    faulted = [r for r in graph if r.status >= 429 or r.dropped]
    kinds = Counter("drop" if r.dropped else r.status for r in faulted)
    assert set(kinds) == {429, 503, 504, "drop"}, kinds
    assert 0.07 <= len(faulted) / len(graph) <= 0.2, (len(faulted), len(graph), kinds)

    # No retry of a throttled request came before its Retry-After (the retry's arrival at the
    # server against the moment the 429 was answered); every fault was retried.
    found = retries(log, start, end)
    assert len(found) == len(faulted)
    for r in found:
        assert r.retry is not None and r.waited is not None, r.fault
        if r.fault.status == 429:
            assert r.fault.retry_after is not None
            assert r.waited >= r.fault.retry_after, (r.fault, r.waited)
    throttled = [r for r in found if r.fault.status == 429]
    assert len(throttled) >= 3
    print(
        f"\n{len(graph)} Graph requests, {len(faulted)} faulted {dict(kinds)}; faulty import "
        f"{faulty_seconds:.1f} s; 429 waits - Retry-After: min "
        f"{min(r.waited - r.fault.retry_after for r in throttled if r.waited and r.fault.retry_after):.3f} s"
    )
