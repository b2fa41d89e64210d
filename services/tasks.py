"""The run queue: taskiq, delivering each sync run to this process or to `entrasync worker`s.

Embedded (the default): taskiq's InMemoryBroker runs each task as an asyncio task of the
process that queued it. External: a Redis list (taskiq-redis's ListQueueBroker) from which
worker processes pop runs, each as soon as it has a free slot. Both modes deliver to the same
task, `run_sync_task`, which finds its process's Runtime in the broker's state.

Delivery is at most once, on purpose. The database, not the queue, knows what a run has done:
a worker that dies leaves its run RUNNING without heartbeat (or, in the instant between pop and
claim, QUEUED), and recover_stale_runs fails it as "interrupted" (R6); the next run repairs
everything (S10). Redelivering a half-done run would only race that recovery. A message that
does arrive twice is harmless anyway: a run is claimed by a conditional update.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator

from redis.asyncio import Redis
from redis.exceptions import RedisError
from taskiq import AsyncBroker, InMemoryBroker, TaskiqDepends, TaskiqState
from taskiq_redis import ListQueueBroker

from services.runtime import Runtime

log = logging.getLogger("entrasync.tasks")

RUN_SYNC_TASK = "entrasync.run_sync"
# Under redis-py's 5 s socket timeout; also how long a stopping worker may wait on its last pop.
BRPOP_SECONDS = 2
REDIS_RETRY_SECONDS = 1.0


async def run_sync_task(
    run_id: int,
    state: TaskiqState = TaskiqDepends(),  # noqa: B008 (taskiq injects the broker's state)
) -> str:
    """Execute one queued sync run; returns its final status (or NOT_CLAIMED)."""
    from services.sync.execution import execute_queued_run

    rt = state.runtime
    if not isinstance(rt, Runtime):
        raise RuntimeError("the broker's state has no Runtime: the worker did not start up")
    return await execute_queued_run(rt, run_id)


class TaskiqRunQueue:
    """services.sync.runs.RunQueue over a taskiq broker (which it shuts down on close)."""

    def __init__(self, broker: AsyncBroker) -> None:
        self.broker = broker
        self._task = broker.register_task(run_sync_task, task_name=RUN_SYNC_TASK)

    async def enqueue(self, run_id: int) -> None:
        await self._task.kiq(run_id)

    async def close(self) -> None:
        await self.broker.shutdown()


def embedded_queue(rt: Runtime) -> TaskiqRunQueue:
    """Runs execute as tasks of this process, with `rt`."""
    broker: InMemoryBroker = InMemoryBroker(max_stored_results=16)
    broker.state.runtime = rt
    return TaskiqRunQueue(broker)


class RunListBroker(ListQueueBroker):
    """taskiq-redis's list broker, popping with a bounded BRPOP.

    Its own BRPOP blocks without end, but redis-py (8.x) gives up reading a socket after 5 s by
    default: an idle worker would fail and log that every 5 s. A Redis outage is logged once a
    retry, without stopping the worker.
    """

    async def listen(self) -> AsyncGenerator[bytes, None]:
        while True:
            try:
                async with Redis(connection_pool=self.connection_pool) as redis:
                    popped = await redis.brpop([self.queue_name], timeout=BRPOP_SECONDS)
            except RedisError as exc:
                log.warning("run queue %s unavailable (%s); retrying", self.queue_name, exc)
                await asyncio.sleep(REDIS_RETRY_SECONDS)
                continue
            if popped is not None:
                data = popped[1]
                yield data.encode() if isinstance(data, str) else data


def redis_broker(url: str, prefix: str) -> RunListBroker:
    """The Redis list `<prefix>runs` that API processes push runs to and workers pop from."""
    return RunListBroker(url, queue_name=f"{prefix}runs")
