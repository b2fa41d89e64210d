"""Fixtures for runs executed by `entrasync worker` processes: Redis, the queue, worker settings.

Redis is needed (the run queue): a test skips when it is unreachable, unless CI is set. Each
test has a key prefix of its own (queue and event channels), deleted at the end.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
from redis.asyncio import Redis
from redis.exceptions import RedisError

from api.runtime import open_runtime
from api.settings import Settings
from models import EndUser, SyncRun, TenantConnection
from services.caller import Caller
from services.runtime import Runtime
from services.wizard import ImportSettings, configure_import
from tests.factories import Tenant, admin_caller, connect_tenant, make_account, make_site
from tests.scale.processes import Processes, entrasync_env

REDIS_URL = os.environ.get("ENTRASYNC_TEST_REDIS", "redis://127.0.0.1:6379/0")
# R6 at test speed: a beat every half second, dead after two silent seconds.
HEARTBEAT = 0.5
STALE_AFTER = 2.0
# What a sync decides about a user, independent of ids, sites and write times.
SYNCED = (
    "email_key",
    "email",
    "first_name",
    "last_name",
    "job_title",
    "phone",
    "mobile",
    "source",
    "entra_object_id",
    "entra_tenant_id",
    "entra_last_email",
    "user_type",
    "account_enabled",
)

T = TypeVar("T")


async def redis_reachable(url: str) -> bool:
    client = Redis.from_url(url)
    try:
        await client.ping()
    except (RedisError, OSError):
        return False
    finally:
        await client.aclose()
    return True


def skip_or_fail(what: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{what} is not reachable and CI is set")
    pytest.skip(f"{what} not reachable")


@pytest.fixture
async def redis_prefix() -> AsyncIterator[str]:
    """A Redis key prefix of this test's own; its keys are deleted at the end."""
    if not await redis_reachable(REDIS_URL):
        skip_or_fail("Redis")
    prefix = f"entrasync-test-{uuid.uuid4().hex[:8]}:"
    yield prefix
    client = Redis.from_url(REDIS_URL)
    try:
        keys = [key async for key in client.scan_iter(match=f"{prefix}*")]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


@pytest.fixture
def cluster_settings(sim_settings: Settings, redis_prefix: str) -> Settings:
    """This process as an API process of a deployment with external workers."""
    return sim_settings.model_copy(
        update={
            "redis_url": REDIS_URL,
            "redis_prefix": redis_prefix,
            "workers": "external",
            "run_heartbeat_seconds": HEARTBEAT,
            "run_stale_after_seconds": STALE_AFTER,
        }
    )


@pytest.fixture
async def cluster_runtime(cluster_settings: Settings) -> AsyncIterator[Runtime]:
    async with open_runtime(cluster_settings) as rt:
        yield rt


def worker_env(settings: Settings, **overrides: Any) -> dict[str, str]:
    """The environment of an `entrasync worker` of the same deployment as `settings`."""
    secret = settings.entra_client_secret
    values: dict[str, Any] = {
        "database_url": settings.resolved_database_url,
        # The token cipher's development key file lives there (shared with this process).
        "data_dir": settings.data_dir,
        "redis_url": settings.redis_url,
        "redis_prefix": settings.redis_prefix,
        "workers": "external",
        "entra_client_id": settings.entra_client_id,
        "entra_client_secret": secret.get_secret_value() if secret else None,
        "entra_authority_host": settings.entra_authority_host,
        "graph_url": settings.graph_url,
        "public_url": settings.public_url,
        "run_heartbeat_seconds": settings.run_heartbeat_seconds,
        "run_stale_after_seconds": settings.run_stale_after_seconds,
        "worker_shutdown_grace_seconds": 0,
    }
    values.update(overrides)
    return entrasync_env(**values)


@pytest.fixture
async def processes(tmp_path: Path) -> AsyncIterator[Processes]:
    async with Processes(tmp_path / "logs") as procs:
        yield procs


async def until(check: Callable[[], Awaitable[T | None]], within: float = 20.0) -> T:
    """Poll `check` until it returns something truthy; raises TimeoutError after `within` s."""
    async with asyncio.timeout(within):
        for _ in itertools.count():
            if value := await check():
                return value
            await asyncio.sleep(0.02)
    raise AssertionError("unreachable")


async def run_row(run_id: int) -> SyncRun:
    return await SyncRun.get(id=run_id)


async def configured_account(rt: Runtime, domain: str) -> tuple[Tenant, Caller, TenantConnection]:
    """A new account whose one site is fed by a SITE connection to the tenant `domain`."""
    account = await make_account()
    site = await make_site(account.account, "Everyone")
    conn = await connect_tenant(rt, account, scope="SITE", site=site, login_hint=f"admin@{domain}")
    caller = await admin_caller(account)
    conn = await configure_import(
        rt, caller, conn.id, ImportSettings(user_types=("MEMBER", "GUEST"))
    )
    return account, caller, conn


async def synced_users(account: Tenant) -> list[tuple[Any, ...]]:
    """The account's end users as a sync decides them, sorted (duplicates stay visible)."""
    rows = await EndUser.filter(account_id=account.account.id).values_list(*SYNCED)
    return sorted(tuple(r) for r in rows)
