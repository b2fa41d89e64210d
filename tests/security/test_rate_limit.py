"""Rate limits: per API key (429 + Retry-After), per client address for failed authentications
(key guessing), on websockets too; in process, and shared through Redis."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import websockets
from pydantic import SecretStr
from redis.asyncio import Redis
from redis.exceptions import RedisError
from starlette.applications import Starlette
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from api.app import create_app
from api.ratelimit import InProcessLimiter, Limit, RedisLimiter
from api.settings import Settings
from services.runtime import Runtime
from tests.factories import Tenant, make_account
from tests.security.conftest import ENCRYPTION_KEY, Server

REDIS_URL = os.environ.get("ENTRASYNC_TEST_REDIS", "redis://127.0.0.1:6379/0")
VIEWER = {"query": "{ viewer { role } }"}


@pytest.fixture
def prod_settings(sim_settings: Settings) -> Settings:  # overrides the package's fixture
    return sim_settings.model_copy(
        update={
            "mode": "production",
            "encryption_key": SecretStr(f"k1:{ENCRYPTION_KEY}"),
            "rate_limit_per_minute": 60,
            "rate_limit_burst": 5,
            "rate_limit_unauthenticated_per_minute": 3,
        }
    )


@pytest.fixture
async def tenant() -> Tenant:
    return await make_account()


def _client(app: Starlette, address: str = "10.0.0.1") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def _viewer(c: httpx.AsyncClient, key: str) -> httpx.Response:
    return await c.post("/graphql", json=VIEWER, headers={"Authorization": f"Bearer {key}"})


def _rate_limited(retry_after: int) -> dict[str, Any]:
    return {
        "errors": [
            {
                "message": f"rate limit exceeded; retry after {retry_after} seconds",
                "extensions": {"code": "RATE_LIMITED"},
            }
        ]
    }


async def test_key_over_its_burst_gets_429_with_retry_after_then_recovers(
    prod_app: Starlette, tenant: Tenant
) -> None:
    other = await make_account()
    async with _client(prod_app) as c:
        for _ in range(5):
            assert (await _viewer(c, tenant.admin_key)).status_code == 200
        refused = await _viewer(c, tenant.admin_key)
        assert refused.status_code == 429
        assert refused.headers["retry-after"] == "1"  # 60 a minute: one more each second
        assert refused.json() == _rate_limited(1)
        # Per key: another key, even of the same address, is not affected.
        assert (await _viewer(c, other.admin_key)).status_code == 200
        await asyncio.sleep(int(refused.headers["retry-after"]))
        assert (await _viewer(c, tenant.admin_key)).status_code == 200


async def test_each_key_of_an_account_has_its_own_budget(
    prod_app: Starlette, tenant: Tenant
) -> None:
    async with _client(prod_app) as c:
        for _ in range(5):
            await _viewer(c, tenant.admin_key)
        assert (await _viewer(c, tenant.admin_key)).status_code == 429
        assert (await _viewer(c, tenant.tech_key)).status_code == 200


async def test_key_guessing_from_one_address_is_slowed_down(
    prod_app: Starlette, tenant: Tenant
) -> None:
    async with _client(prod_app, "10.6.6.6") as guesser, _client(prod_app, "10.7.7.7") as bystander:
        for i in range(3):
            r = await _viewer(guesser, f"es_{i:012d}_guess")
            assert r.status_code == 401
        refused = await _viewer(guesser, "es_000000000009_guess")
        assert refused.status_code == 429
        assert refused.headers["retry-after"] == "20"  # 3 a minute
        assert refused.json() == _rate_limited(20)
        # While refused, the address cannot even try a real key: nothing is looked up.
        assert (await _viewer(guesser, tenant.admin_key)).status_code == 429
        # Other addresses are not affected, and valid keys never spend the address budget.
        assert (await _viewer(bystander, tenant.admin_key)).status_code == 200
        for _ in range(4):
            assert (await _viewer(bystander, tenant.tech_key)).status_code == 200


async def test_missing_key_counts_as_a_failed_authentication(prod_app: Starlette) -> None:
    async with _client(prod_app, "10.8.8.8") as c:
        statuses = [(await c.post("/graphql", json=VIEWER)).status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]


async def _ws_init(server: Server, key: str) -> Any:
    ws = await websockets.connect(server.ws_url, subprotocols=[Subprotocol("graphql-transport-ws")])
    await ws.send(
        json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {key}"}})
    )
    return ws


async def _close_code(ws: Any) -> int | None:
    try:
        while True:
            await asyncio.wait_for(ws.recv(), 5)
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd else None


async def test_websocket_key_guessing_is_slowed_down(prod_server: Server, tenant: Tenant) -> None:
    for i in range(3):
        assert await _close_code(await _ws_init(prod_server, f"es_{i:012d}_guess")) == 4403
    # The address is over its limit: even a valid key is refused until it recovers.
    assert await _close_code(await _ws_init(prod_server, tenant.admin_key)) == 4403


async def test_websocket_subscribes_count_against_the_key(
    prod_server: Server, tenant: Tenant
) -> None:
    ws = await _ws_init(prod_server, tenant.admin_key)
    assert json.loads(await ws.recv())["type"] == "connection_ack"
    answers = []
    for i in range(6):
        subscribe = {
            "id": f"q{i}",
            "type": "subscribe",
            "payload": {"query": "{ viewer { role } }"},
        }
        await ws.send(json.dumps(subscribe))
        first = json.loads(await asyncio.wait_for(ws.recv(), 5))
        if first["type"] == "next":
            assert json.loads(await asyncio.wait_for(ws.recv(), 5))["type"] == "complete"
        answers.append(first)
    assert [a["type"] for a in answers] == ["next"] * 5 + ["error"]
    assert answers[-1] == {
        "id": "q5",
        "type": "error",
        "payload": [
            {
                "message": "rate limit exceeded; retry after 1 seconds",
                "extensions": {"code": "RATE_LIMITED", "retryAfter": 1},
            }
        ],
    }
    await ws.close()


async def test_rate_limits_can_be_turned_off(
    prod_settings: Settings, prod_runtime: Runtime, tenant: Tenant
) -> None:
    off = prod_settings.model_copy(update={"rate_limit_per_minute": 0})
    app = create_app(off, runtime=prod_runtime, manage_database=False)
    async with _client(app) as c:
        assert {(await _viewer(c, tenant.admin_key)).status_code for _ in range(20)} == {200}


# -- the limiters themselves


class Clock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def test_token_bucket_allows_the_burst_then_refills_at_the_rate() -> None:
    clock = Clock()
    limiter = InProcessLimiter(clock=clock)
    limit = Limit(per_minute=30, burst=3)
    assert [await limiter.acquire("k", limit) for _ in range(4)] == [None, None, None, 2]
    assert await limiter.blocked("k", limit) == 2
    clock.now += 1.0  # half a token
    assert await limiter.acquire("k", limit) == 1
    clock.now += 1.0
    assert await limiter.acquire("k", limit) is None
    clock.now += 3600
    assert [await limiter.acquire("k", limit) for _ in range(4)] == [None, None, None, 2]


async def test_token_bucket_holds_a_bounded_number_of_keys() -> None:
    limiter = InProcessLimiter(max_keys=100)
    limit = Limit(per_minute=1, burst=1)
    for i in range(10_000):
        await limiter.acquire(f"addr:{i}", limit)
    assert len(limiter._buckets) == 100
    assert await limiter.acquire("addr:9999", limit) == 60


@pytest.fixture
async def redis_prefix() -> AsyncIterator[str]:
    client = Redis.from_url(REDIS_URL)
    try:
        await client.ping()
    except (RedisError, OSError):
        await client.aclose()
        if os.environ.get("CI"):
            pytest.fail("Redis is not reachable and CI is set")
        pytest.skip("Redis not reachable")
    prefix = f"entrasync-test-{uuid.uuid4().hex[:8]}:"
    try:
        yield prefix
    finally:
        keys = [k async for k in client.scan_iter(f"{prefix}*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()


async def test_redis_window_is_shared_by_every_process(redis_prefix: str) -> None:
    clock = Clock(now=6000.0 + 15)  # 15 s into a window
    one = RedisLimiter(Redis.from_url(REDIS_URL), prefix=redis_prefix, clock=clock)
    two = RedisLimiter(Redis.from_url(REDIS_URL), prefix=redis_prefix, clock=clock)
    limit = Limit(per_minute=3, burst=1)
    try:
        got = [await (one if i % 2 else two).acquire("key:1", limit) for i in range(4)]
        assert got == [None, None, None, 45]
        assert await one.blocked("key:1", limit) == 45
        assert await two.acquire("key:2", limit) is None  # another key
        clock.now += 45  # the next window
        assert await one.acquire("key:1", limit) is None
    finally:
        await one.close()
        await two.close()


async def test_redis_limiter_lets_requests_through_when_redis_is_down(
    caplog: pytest.LogCaptureFixture,
) -> None:
    limiter = RedisLimiter(Redis.from_url("redis://127.0.0.1:1/0"), prefix="x:")
    try:
        with caplog.at_level(logging.WARNING, logger="entrasync.api"):
            assert await limiter.acquire("key:1", Limit(per_minute=1, burst=1)) is None
            assert await limiter.blocked("key:1", Limit(per_minute=1, burst=1)) is None
    finally:
        await limiter.close()
    assert any("Redis unavailable" in r.getMessage() for r in caplog.records)


async def test_app_with_redis_configured_limits_through_redis(
    prod_settings: Settings, prod_runtime: Runtime, tenant: Tenant, redis_prefix: str
) -> None:
    settings = prod_settings.model_copy(
        update={"redis_url": REDIS_URL, "redis_prefix": redis_prefix, "rate_limit_per_minute": 3}
    )
    app = create_app(settings, runtime=prod_runtime, manage_database=False)
    assert isinstance(app.state.rate_limiter, RedisLimiter)
    if time.time() % 60 > 55:  # keep the four requests inside one window
        await asyncio.sleep(60 - time.time() % 60 + 0.1)
    try:
        async with _client(app) as c:
            statuses = [(await _viewer(c, tenant.admin_key)).status_code for _ in range(4)]
            refused = await _viewer(c, tenant.admin_key)
        assert statuses == [200, 200, 200, 429]
        assert 1 <= int(refused.headers["retry-after"]) <= 60
    finally:
        await app.state.rate_limiter.close()
