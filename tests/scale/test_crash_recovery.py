"""R6 with real processes: a worker killed by SIGKILL mid-import, then a retry, equals a clean run."""

from __future__ import annotations

import asyncio

from api.settings import Settings
from models import EndUser, RunStatus, SyncRun, TenantConnection
from services.caller import Caller
from services.runtime import Runtime
from services.sync.runs import runner_of, start_sync
from simulator.server import Simulator
from simulator.tenant import generate_tenant
from tests.scale.conftest import (
    STALE_AFTER,
    configured_account,
    run_row,
    synced_users,
    until,
    worker_env,
)
from tests.scale.processes import Processes

PAGE = 999  # users per /users page, and per committed batch of a full round
USERS = 8_500  # nine pages
KILL_AFTER_BATCHES = (1, 3, 6)
# Slow enough to kill between two batches, fast enough for a test.
PAGE_DELAY = 0.25
DOMAIN = "crash.example"


async def _run_to_end(rt: Runtime, caller: Caller, conn: TenantConnection) -> SyncRun:
    run, created = await start_sync(rt, caller, conn)
    assert created
    await asyncio.wait_for(runner_of(rt).wait(run.id), timeout=60)
    return await run_row(run.id)


async def test_r6_worker_killed_at_several_points_then_a_retry_equals_a_clean_run(
    sim: Simulator,
    cluster_settings: Settings,
    cluster_runtime: Runtime,
    processes: Processes,
) -> None:
    sim.state.add_tenant(generate_tenant(seed=11, users=USERS, domain=DOMAIN))
    rt = cluster_runtime
    env = worker_env(cluster_settings)
    workers = [await processes.worker(f"worker-{n}", env) for n in (1, 2)]

    # The reference: one clean import (each scenario below uses an account of its own, so that
    # each starts from nothing, as the first import of a tenant does).
    reference, ref_caller, ref_conn = await configured_account(rt, DOMAIN)
    clean = await _run_to_end(rt, ref_caller, ref_conn)
    assert clean.status is RunStatus.SUCCEEDED, clean.error_message
    expected = await synced_users(reference)
    assert len(expected) == clean.created > 8 * PAGE
    assert len({user[0] for user in expected}) == len(expected)

    for batches in KILL_AFTER_BATCHES:
        account, caller, conn = await configured_account(rt, DOMAIN)
        sim.state.faults.page_delay = PAGE_DELAY
        run, _ = await start_sync(rt, caller, conn)

        async def committed(run_id: int = run.id, n: int = batches) -> SyncRun | None:
            row = await run_row(run_id)
            return row if row.fetched >= n * PAGE else None

        executing = await until(committed)
        victim = next(w for w in workers if executing.worker.endswith(f":{w.pid}"))
        victim.kill()
        await victim.wait()
        sim.state.faults.page_delay = 0.0
        dead = await run_row(run.id)
        assert batches * PAGE <= dead.fetched < USERS, f"not killed mid-import ({batches})"
        # What the dead run committed is whole: users and counters share each batch's transaction.
        assert await EndUser.filter(account_id=account.account.id).count() == dead.created

        # No scheduler runs here: the surviving worker notices the silence (R6).
        async def ended(run_id: int = run.id) -> SyncRun | None:
            row = await run_row(run_id)
            return row if row.status is not RunStatus.RUNNING else None

        failed = await until(ended, within=STALE_AFTER * 5)
        assert failed.status is RunStatus.FAILED
        assert failed.error_message.startswith("interrupted"), failed.error_message
        assert failed.active_connection_id is None and failed.finished_at is not None

        retry = await _run_to_end(rt, caller, conn)
        assert retry.status is RunStatus.SUCCEEDED, retry.error_message
        assert retry.worker != dead.worker
        assert await synced_users(account) == expected, f"killed after {batches} batch(es)"

        workers.remove(victim)
        workers.append(await processes.worker(f"worker-after-{batches}", env))

    assert not await SyncRun.filter(status__in=(RunStatus.QUEUED, RunStatus.RUNNING)).exists()
