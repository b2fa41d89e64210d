"""`entrasync worker`: a process that executes sync runs popped from the Redis run queue.

The database and the Runtime open at taskiq's WORKER_STARTUP and close at WORKER_SHUTDOWN.
Runs execute through taskiq's Receiver, at most `worker_concurrency` at once: a run is popped
only when a slot is free, so idle workers take the next run rather than a busy one hoarding it.
Every worker also fails the runs of dead processes (R6), as the scheduler does.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from taskiq import AsyncBroker, TaskiqEvents, TaskiqState
from taskiq.receiver import Receiver

from api.db import close_database, open_database
from api.runtime import open_runtime
from api.settings import Settings
from services.runtime import Runtime
from services.sync.runs import recover_stale_runs
from services.tasks import TaskiqRunQueue, redis_broker

log = logging.getLogger("entrasync.worker")

# A broken Redis or database connection while waiting for runs: wait this long, then listen again.
RETRY_AFTER = 2.0


async def run_worker(settings: Settings, stop: asyncio.Event) -> None:
    """Execute queued runs until `stop` is set; then let them finish for the grace period and
    stop the rest (they end FAILED "interrupted" and the next run repairs them, R6).

    Raises ValueError without a Redis URL.
    """
    if not settings.redis_url:
        raise ValueError("entrasync worker needs ENTRASYNC_REDIS_URL (the run queue)")
    broker = redis_broker(settings.redis_url, settings.redis_prefix)
    TaskiqRunQueue(broker)  # registers the task with the broker this process listens to
    broker.is_worker_process = True
    resources = contextlib.AsyncExitStack()

    async def startup(state: TaskiqState) -> None:
        await open_database(settings.resolved_database_url, shared=True)
        resources.push_async_callback(close_database)
        # Runs this worker starts itself (none today) would go to the same queue.
        worker_settings = settings.model_copy(update={"workers": "external"})
        state.runtime = await resources.enter_async_context(open_runtime(worker_settings))

    async def shutdown(_: TaskiqState) -> None:
        await resources.aclose()

    broker.add_event_handler(TaskiqEvents.WORKER_STARTUP, startup)
    broker.add_event_handler(TaskiqEvents.WORKER_SHUTDOWN, shutdown)
    await broker.startup()
    try:
        rt: Runtime = broker.state.runtime
        print(
            f"worker {rt.worker_name} executing up to {settings.worker_concurrency} run(s) "
            f"from {settings.redis_prefix}runs",
            flush=True,
        )
        recovering = asyncio.create_task(_recover_periodically(rt, stop), name="run-recovery")
        try:
            await _receive(broker, settings, stop)
        finally:
            recovering.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await recovering
    finally:
        await broker.shutdown()  # WORKER_SHUTDOWN: stops what still runs, closes the database


async def _receive(broker: AsyncBroker, settings: Settings, stop: asyncio.Event) -> None:
    while not stop.is_set():
        receiver = Receiver(
            broker,
            executor=None,
            run_startup=False,
            max_async_tasks=settings.worker_concurrency,
            max_prefetch=0,
            wait_tasks_timeout=settings.worker_shutdown_grace_seconds,
        )
        try:
            await receiver.listen(stop)
        except Exception:
            log.exception("listening to the run queue failed; retrying in %gs", RETRY_AFTER)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), RETRY_AFTER)


async def _recover_periodically(rt: Runtime, stop: asyncio.Event) -> None:
    """R6 from the workers' side: detection does not depend on a scheduler running somewhere."""
    every = rt.liveness.stale_after / 2
    while not stop.is_set():
        try:
            await recover_stale_runs(rt)
        except Exception:
            log.warning("could not check for interrupted runs", exc_info=True)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every)
