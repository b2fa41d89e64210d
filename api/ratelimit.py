"""Request rate limits per API key and per client address: a token bucket in process, a window in Redis.

Each API key gets `per_minute` requests a minute with bursts up to `burst`; requests that fail
authentication are counted per client address (so guessing keys is slow), and an address over
its limit is refused before any key it presents is even looked up. With one API process the
in-process limiter is exact. With several processes behind a balancer each would count alone, so
when ENTRASYNC_REDIS_URL is set the processes share a fixed one-minute window in Redis instead
(INCR + EXPIRE under the configured key prefix; a window allows up to twice the limit across its
edge, and `burst` does not apply). If Redis fails, requests are let through and a warning is
logged: an outage of the limiter must not become an outage of the API.
"""

from __future__ import annotations

import logging
import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger("entrasync.api")


@dataclass(frozen=True, slots=True)
class Limit:
    """`per_minute` requests a minute on average, at most `burst` at once; 0 per minute is no limit."""

    per_minute: int
    burst: int

    @property
    def enabled(self) -> bool:
        return self.per_minute > 0


class RateLimiter(Protocol):
    async def acquire(self, key: str, limit: Limit) -> int | None:
        """Count one request for `key`: None when allowed, else the seconds to wait (Retry-After)."""
        ...

    async def blocked(self, key: str, limit: Limit) -> int | None:
        """Whether `key` is over its limit now (the seconds to wait), without counting a request."""
        ...

    async def close(self) -> None: ...


class InProcessLimiter:
    """Token buckets in memory: exact for one process. Holds at most `max_keys` buckets, dropping
    the least recently used (a dropped bucket starts full again, which only errs on the lenient
    side)."""

    def __init__(
        self, *, max_keys: int = 100_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._max_keys = max_keys
        self._clock = clock

    def _tokens(self, key: str, limit: Limit, now: float) -> float:
        capacity = float(max(1, limit.burst))
        found = self._buckets.get(key)
        if found is None:
            return capacity
        tokens, at = found
        return min(capacity, tokens + (now - at) * limit.per_minute / 60.0)

    def _wait(self, tokens: float, limit: Limit) -> int:
        return max(1, math.ceil((1.0 - tokens) * 60.0 / limit.per_minute))

    async def acquire(self, key: str, limit: Limit) -> int | None:
        if not limit.enabled:
            return None
        now = self._clock()
        tokens = self._tokens(key, limit, now)
        if tokens < 1.0:
            return self._wait(tokens, limit)
        self._buckets[key] = (tokens - 1.0, now)
        self._buckets.move_to_end(key)
        while len(self._buckets) > self._max_keys:
            self._buckets.popitem(last=False)
        return None

    async def blocked(self, key: str, limit: Limit) -> int | None:
        if not limit.enabled or key not in self._buckets:
            return None
        tokens = self._tokens(key, limit, self._clock())
        return self._wait(tokens, limit) if tokens < 1.0 else None

    async def close(self) -> None:
        self._buckets.clear()


class RedisLimiter:
    """A fixed one-minute window per key, shared by every process that uses the same Redis."""

    WINDOW = 60

    def __init__(
        self, redis: Redis, *, prefix: str, clock: Callable[[], float] = time.time
    ) -> None:
        self._redis = redis
        self._prefix = prefix
        self._clock = clock

    def _window(self, key: str) -> tuple[str, int]:
        now = self._clock()
        window = int(now // self.WINDOW)
        left = max(1, math.ceil((window + 1) * self.WINDOW - now))
        return f"{self._prefix}ratelimit:{key}:{window}", left

    async def acquire(self, key: str, limit: Limit) -> int | None:
        if not limit.enabled:
            return None
        name, left = self._window(key)
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.incr(name)
                pipe.expire(name, self.WINDOW * 2)
                count, _ = await pipe.execute()
        except (RedisError, OSError) as exc:
            log.warning("rate limiter: Redis unavailable, request let through (%s)", exc)
            return None
        return left if int(count) > limit.per_minute else None

    async def blocked(self, key: str, limit: Limit) -> int | None:
        if not limit.enabled:
            return None
        name, left = self._window(key)
        try:
            count = await self._redis.get(name)
        except (RedisError, OSError) as exc:
            log.warning("rate limiter: Redis unavailable, request let through (%s)", exc)
            return None
        return left if count is not None and int(count) >= limit.per_minute else None

    async def close(self) -> None:
        await self._redis.aclose()
