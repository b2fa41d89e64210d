"""The event bus across processes: Redis pub/sub, fanned out locally by one listener per process.

A subscriber on any API process sees what a worker on another publishes (R2 at scale). Each
process holds one pub/sub connection whatever its number of subscribers; local fan-out reuses
InProcessBus, so the drop-oldest guarantee (a slow subscriber never slows a run) holds here too.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError

from services.events import Event, InProcessBus, Subscription

log = logging.getLogger("entrasync.events")


class RedisBus:
    """Publish to Redis channels `<prefix><topic>`; deliver to this process's subscribers."""

    def __init__(self, redis: Redis, *, prefix: str = "entrasync:", mailbox_size: int = 16) -> None:
        self._redis = redis
        self._prefix = prefix
        self._local = InProcessBus(mailbox_size)
        self._pubsub: PubSub | None = None
        self._listener: asyncio.Task[None] | None = None
        self._counts: dict[str, int] = {}
        self._lock = asyncio.Lock()

    async def publish(self, topic: str, event: Event) -> None:
        # A lost progress event must never fail a run: the next snapshot supersedes it.
        try:
            await self._redis.publish(self._prefix + topic, json.dumps(event, default=str))
        except RedisError as exc:
            log.warning("could not publish %s: %s", topic, exc)

    def subscriber_count(self, topic: str) -> int:
        return self._local.subscriber_count(topic)

    def total_subscribers(self) -> int:
        return self._local.total_subscribers()

    async def _ensure_listener(self) -> PubSub:
        if self._pubsub is None:
            self._pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        if self._listener is None or self._listener.done():
            # A pub/sub connection must be subscribed before listen() yields anything.
            self._listener = asyncio.create_task(self._listen(self._pubsub), name="redis-bus")
        return self._pubsub

    async def _listen(self, pubsub: PubSub) -> None:
        while True:
            if not pubsub.subscribed:
                await asyncio.sleep(0.05)
                continue
            try:
                message = await pubsub.get_message(timeout=1.0)
            except RedisError as exc:
                log.warning("redis event listener: %s; retrying", exc)
                await asyncio.sleep(1.0)
                continue
            if message is None or message.get("type") != "message":
                continue
            channel = message["channel"]
            topic = (channel.decode() if isinstance(channel, bytes) else str(channel))[
                len(self._prefix) :
            ]
            try:
                event = json.loads(message["data"])
            except (TypeError, ValueError):
                continue
            await self._local.publish(topic, event)

    @asynccontextmanager
    async def _subscribe(self, topic: str) -> AsyncIterator[AsyncIterator[Event]]:
        async with self._local.subscribe(topic) as events:
            async with self._lock:
                pubsub = await self._ensure_listener()
                self._counts[topic] = self._counts.get(topic, 0) + 1
                if self._counts[topic] == 1:
                    await pubsub.subscribe(self._prefix + topic)
            try:
                yield events
            finally:
                async with self._lock:
                    self._counts[topic] -= 1
                    if self._counts[topic] == 0:
                        del self._counts[topic]
                        with contextlib.suppress(RedisError):
                            await pubsub.unsubscribe(self._prefix + topic)

    def subscribe(self, topic: str) -> Subscription:
        return self._subscribe(topic)  # type: ignore[return-value]

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
        if self._pubsub is not None:
            with contextlib.suppress(RedisError):
                await self._pubsub.aclose()  # type: ignore[no-untyped-call]
