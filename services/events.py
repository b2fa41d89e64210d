"""The event bus behind live progress (R2): publish never waits for subscribers.

Events are cumulative snapshots (a run's state), so a subscriber that falls behind loses only
intermediate snapshots, never the latest one: each subscriber has a small queue that drops its
oldest event when full. A slow subscriber therefore never slows a run.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Protocol

Event = dict[str, Any]


class EventBus(Protocol):
    async def publish(self, topic: str, event: Event) -> None: ...

    def subscribe(self, topic: str) -> Subscription: ...


class Subscription(Protocol):
    async def __aenter__(self) -> AsyncIterator[Event]: ...

    async def __aexit__(self, *exc: object) -> None: ...


class _Mailbox:
    __slots__ = ("dropped", "queue")

    def __init__(self, size: int) -> None:
        self.queue: asyncio.Queue[Event] = asyncio.Queue(maxsize=size)
        self.dropped = 0

    def offer(self, event: Event) -> None:
        if self.queue.full():
            self.queue.get_nowait()
            self.dropped += 1
        self.queue.put_nowait(event)

    async def __aiter__(self) -> AsyncIterator[Event]:
        while True:
            yield await self.queue.get()


class InProcessBus:
    """The embedded default: one process, plain asyncio queues."""

    def __init__(self, mailbox_size: int = 16) -> None:
        self._topics: dict[str, set[_Mailbox]] = {}
        self._size = mailbox_size

    async def publish(self, topic: str, event: Event) -> None:
        for box in self._topics.get(topic, ()):
            box.offer(event)

    def subscriber_count(self, topic: str) -> int:
        return len(self._topics.get(topic, ()))

    def total_subscribers(self) -> int:
        """Open subscriptions in this process (for the metrics endpoint)."""
        return sum(len(boxes) for boxes in self._topics.values())

    @asynccontextmanager
    async def _subscribe(self, topic: str) -> AsyncIterator[AsyncIterator[Event]]:
        box = _Mailbox(self._size)
        self._topics.setdefault(topic, set()).add(box)
        try:
            yield box.__aiter__()
        finally:
            boxes = self._topics.get(topic)
            if boxes is not None:
                boxes.discard(box)
                if not boxes:
                    del self._topics[topic]

    def subscribe(self, topic: str) -> Subscription:
        return self._subscribe(topic)  # type: ignore[return-value]


def run_topic(run_id: int) -> str:
    return f"run:{run_id}"


def account_runs_topic(account_id: int) -> str:
    return f"account:{account_id}:runs"
