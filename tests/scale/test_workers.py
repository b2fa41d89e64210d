"""Runs executed by `entrasync worker` processes: queueing, events, cancel, shutdown (R1, R2, R6)."""

from __future__ import annotations

import asyncio
import sys

from api.settings import Settings
from models import RunStatus, SyncRun
from services.events import account_runs_topic
from services.runtime import Runtime
from services.sync.runs import cancel_sync, runner_of, start_sync
from simulator.server import Simulator
from simulator.tenant import generate_tenant
from tests.scale.conftest import configured_account, run_row, until, worker_env
from tests.scale.processes import Processes, entrasync_env

PAGE = 999
DOMAIN = "workers.example"


def _big_tenant(sim: Simulator, users: int = 4_500) -> None:
    sim.state.add_tenant(generate_tenant(seed=21, users=users, domain=DOMAIN))


async def _running(run_id: int, fetched: int = 0) -> SyncRun | None:
    row = await run_row(run_id)
    return row if row.status is RunStatus.RUNNING and row.fetched >= fetched else None


async def test_r1_a_run_queued_here_executes_on_a_worker_and_streams_its_progress_here(
    sim: Simulator,
    cluster_settings: Settings,
    cluster_runtime: Runtime,
    processes: Processes,
) -> None:
    _big_tenant(sim)
    worker = await processes.worker("worker", worker_env(cluster_settings))
    rt = cluster_runtime
    _, caller, conn = await configured_account(rt, DOMAIN)
    events: list[dict[str, object]] = []

    async with rt.bus.subscribe(account_runs_topic(conn.account_id)) as stream:
        await asyncio.sleep(0.05)  # the SUBSCRIBE reaches Redis before the run can start
        run, created = await start_sync(rt, caller, conn)
        async with asyncio.timeout(30):
            async for event in stream:
                events.append(event)
                if event["status"] in ("SUCCEEDED", "FAILED", "CANCELLED"):
                    break

    assert created and not runner_of(rt).executing_here(run.id)
    done = await run_row(run.id)
    assert done.status is RunStatus.SUCCEEDED, done.error_message
    assert done.worker.endswith(f":{worker.pid}")
    assert events[-1]["status"] == "SUCCEEDED" and events[-1]["created"] == done.created
    assert any(e["status"] == "RUNNING" for e in events)


async def test_r1_runs_spread_over_idle_workers(
    sim: Simulator,
    cluster_settings: Settings,
    cluster_runtime: Runtime,
    processes: Processes,
) -> None:
    """A worker pops a run only when it has a free slot: two runs, two single-slot workers."""
    _big_tenant(sim)
    env = worker_env(cluster_settings)
    workers = [await processes.worker(f"worker-{n}", env, concurrency=1) for n in (1, 2)]
    rt = cluster_runtime
    accounts = [await configured_account(rt, DOMAIN) for _ in range(2)]
    sim.state.faults.page_delay = 0.2
    runs = [(await start_sync(rt, caller, conn))[0] for _, caller, conn in accounts]

    for run in runs:
        await asyncio.wait_for(runner_of(rt).wait(run.id), timeout=60)

    done = [await run_row(run.id) for run in runs]
    assert all(d.status is RunStatus.SUCCEEDED for d in done)
    assert sorted(d.worker.rsplit(":", 1)[1] for d in done) == sorted(str(w.pid) for w in workers)


async def test_r1_cancel_reaches_a_run_executing_in_another_process_within_a_batch(
    sim: Simulator,
    cluster_settings: Settings,
    cluster_runtime: Runtime,
    processes: Processes,
) -> None:
    _big_tenant(sim, users=8_000)
    await processes.worker("worker", worker_env(cluster_settings))
    rt = cluster_runtime
    _, caller, conn = await configured_account(rt, DOMAIN)
    sim.state.faults.page_delay = 0.3
    run, _ = await start_sync(rt, caller, conn)
    at_cancel = (await until(lambda: _running(run.id, fetched=PAGE))).fetched

    await cancel_sync(rt, caller, run.id)
    await asyncio.wait_for(runner_of(rt).wait(run.id), timeout=10)

    done = await run_row(run.id)
    assert done.status is RunStatus.CANCELLED and done.error_message == "cancelled by an admin"
    # Whole batches only; at most the one under way when the flag was set, and one being planned.
    assert done.fetched % PAGE == 0 and done.fetched <= at_cancel + 2 * PAGE < 8_000


async def test_r1_a_run_no_worker_took_yet_is_cancelled_at_once_and_never_executes(
    sim: Simulator,
    cluster_settings: Settings,
    cluster_runtime: Runtime,
    processes: Processes,
) -> None:
    rt = cluster_runtime
    _, caller, conn = await configured_account(rt, "contoso.example")
    run, _ = await start_sync(rt, caller, conn)
    assert (await run_row(run.id)).status is RunStatus.QUEUED

    cancelled = await cancel_sync(rt, caller, run.id)

    assert cancelled.status is RunStatus.CANCELLED and cancelled.active_connection_id is None
    # Its message is still queued: the worker that pops it finds nothing to do.
    worker = await processes.worker("worker", worker_env(cluster_settings))
    again, created = await start_sync(rt, caller, conn)
    assert created
    await asyncio.wait_for(runner_of(rt).wait(again.id), timeout=30)
    assert (await run_row(again.id)).status is RunStatus.SUCCEEDED
    assert (await run_row(run.id)).status is RunStatus.CANCELLED
    assert "not queued any more" in worker.output()


async def test_r6_sigterm_stops_a_worker_and_fails_its_run_as_interrupted_at_once(
    sim: Simulator,
    cluster_settings: Settings,
    cluster_runtime: Runtime,
    processes: Processes,
) -> None:
    """Graceful stop (grace 0 here): nothing waits for the heartbeat to go stale."""
    _big_tenant(sim)
    slow = cluster_settings.model_copy(update={"run_stale_after_seconds": 60.0})
    worker = await processes.worker("worker", worker_env(slow))
    rt = cluster_runtime
    _, caller, conn = await configured_account(rt, DOMAIN)
    sim.state.faults.page_delay = 0.3
    run, _ = await start_sync(rt, caller, conn)
    await until(lambda: _running(run.id))

    worker.terminate()

    assert await worker.wait(within=15) == 0
    done = await run_row(run.id)
    assert done.status is RunStatus.FAILED
    assert done.error_message == "interrupted: the process running it stopped"
    assert done.active_connection_id is None


async def test_sigterm_lets_runs_finish_within_the_grace_period(
    sim: Simulator,
    cluster_settings: Settings,
    cluster_runtime: Runtime,
    processes: Processes,
) -> None:
    _big_tenant(sim)
    worker = await processes.worker(
        "worker", worker_env(cluster_settings, worker_shutdown_grace_seconds=30)
    )
    rt = cluster_runtime
    _, caller, conn = await configured_account(rt, DOMAIN)
    sim.state.faults.page_delay = 0.1
    run, _ = await start_sync(rt, caller, conn)
    await until(lambda: _running(run.id))

    worker.terminate()

    assert await worker.wait(within=30) == 0
    assert (await run_row(run.id)).status is RunStatus.SUCCEEDED


async def test_worker_refuses_to_start_without_redis() -> None:
    env = entrasync_env(redis_url=None)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "api.cli",
        "worker",
        env=env,
        stderr=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.DEVNULL,
    )
    _, err = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode == 2
    assert b"ENTRASYNC_REDIS_URL" in err
