"""The Redis event bus: what one process publishes, another process's subscribers receive."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis
from redis.exceptions import RedisError

from services.redis_bus import RedisBus

REDIS_URL = os.environ.get("ENTRASYNC_TEST_REDIS", "redis://127.0.0.1:6379/0")


@pytest.fixture
async def prefix() -> AsyncIterator[str]:
    client = Redis.from_url(REDIS_URL)
    try:
        await client.ping()
    except (RedisError, OSError):
        await client.aclose()
        if os.environ.get("CI"):
            pytest.fail("Redis is not reachable and CI is set")
        pytest.skip("Redis not reachable")
    await client.aclose()
    # A key prefix of its own, so that concurrent runs never see each other's events.
    yield f"entrasync-test-{uuid.uuid4().hex[:8]}:"


async def _bus(prefix: str) -> RedisBus:
    return RedisBus(Redis.from_url(REDIS_URL), prefix=prefix)


async def _close(bus: RedisBus) -> None:
    await bus.close()
    await bus._redis.aclose()


async def test_events_cross_process_boundaries(prefix: str) -> None:
    api, worker = await _bus(prefix), await _bus(prefix)
    try:
        async with api.subscribe("run:1") as events:
            await asyncio.sleep(0.05)  # the SUBSCRIBE reaches Redis
            for n in range(3):
                await worker.publish("run:1", {"n": n})
            got = [await asyncio.wait_for(anext(events), 2) for _ in range(3)]
        assert got == [{"n": 0}, {"n": 1}, {"n": 2}]
    finally:
        await _close(api)
        await _close(worker)


async def test_prefixes_and_topics_are_isolated(prefix: str) -> None:
    mine, other = await _bus(prefix), await _bus(prefix + "other:")
    try:
        async with mine.subscribe("run:1") as events:
            await asyncio.sleep(0.05)
            await other.publish("run:1", {"from": "other deployment"})
            await mine.publish("run:2", {"from": "other topic"})
            await mine.publish("run:1", {"from": "me"})
            assert await asyncio.wait_for(anext(events), 2) == {"from": "me"}
    finally:
        await _close(mine)
        await _close(other)


async def test_a_slow_subscriber_keeps_the_latest_event(prefix: str) -> None:
    bus = await _bus(prefix)
    try:
        async with bus.subscribe("run:9") as events:
            await asyncio.sleep(0.05)
            for n in range(100):  # never read while publishing: the mailbox drops the oldest
                await bus.publish("run:9", {"n": n})
            await asyncio.sleep(0.3)
            seen = []
            while True:
                try:
                    seen.append((await asyncio.wait_for(anext(events), 0.3))["n"])
                except TimeoutError:
                    break
        assert seen[-1] == 99 and len(seen) <= 16
    finally:
        await _close(bus)
