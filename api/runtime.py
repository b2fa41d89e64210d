"""Builds the process-wide Runtime from Settings: cipher, HTTP session, msal app."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

import aiohttp
from redis.asyncio import Redis

from api.settings import Settings
from entra.auth import EntraAuth
from entra.cipher import TokenCipher, generate_key
from entra.config import EntraConfig
from services.events import EventBus, InProcessBus
from services.redis_bus import RedisBus
from services.runtime import Runtime
from services.sync.liveness import Liveness, default_worker_name
from services.sync.runs import SyncRunner
from services.tasks import TaskiqRunQueue, embedded_queue, redis_broker


class ConfigurationError(RuntimeError):
    """A setting is missing or wrong; the message says which and how to fix it."""


def load_cipher(settings: Settings) -> TokenCipher:
    """The token cipher: from ENTRASYNC_ENCRYPTION_KEY, or in development a key file in data_dir.

    Raises ConfigurationError in production without a key, or for a malformed key setting.
    """
    if settings.encryption_key is not None:
        try:
            return TokenCipher.from_setting(settings.encryption_key.get_secret_value())
        except ValueError as exc:
            raise ConfigurationError(f"ENTRASYNC_ENCRYPTION_KEY: {exc}") from None
    if settings.production:
        raise ConfigurationError(
            "ENTRASYNC_ENCRYPTION_KEY is required in production "
            "(generate one with: python -c \"from entra.cipher import generate_key; print('k1:' + generate_key())\")"
        )
    # Development: a per-installation key next to the SQLite file, readable by its owner only.
    path = Path(settings.data_dir) / "encryption.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(f"dev:{generate_key()}\n")
    return TokenCipher.from_setting(path.read_text().strip())


# Libraries that log request bodies at DEBUG: msal logs authorization codes and PKCE verifiers.
_SECRET_LOGGERS = ("msal",)


def quiet_secret_loggers() -> None:
    """Keep libraries that log secrets at DEBUG from doing so, whatever the root level is."""
    for name in _SECRET_LOGGERS:
        logger = logging.getLogger(name)
        if logger.getEffectiveLevel() < logging.INFO or logger.level < logging.INFO:
            logger.setLevel(logging.INFO)


def entra_config(settings: Settings) -> EntraConfig | None:
    if not settings.entra_client_id or settings.entra_client_secret is None:
        return None
    return EntraConfig(
        client_id=settings.entra_client_id,
        client_secret=settings.entra_client_secret.get_secret_value(),
        authority_host=settings.entra_authority_host,
        graph_url=settings.graph_url,
    )


@asynccontextmanager
async def open_runtime(settings: Settings) -> AsyncIterator[Runtime]:
    """Everything a process shares, opened once and closed at shutdown."""
    quiet_secret_loggers()
    cipher = load_cipher(settings)
    config = entra_config(settings)
    auth = EntraAuth(config) if config is not None else None
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=10, sock_read=60)
    async with contextlib.AsyncExitStack() as stack:
        http = await stack.enter_async_context(
            aiohttp.ClientSession(timeout=timeout, raise_for_status=False)
        )
        bus: EventBus = InProcessBus()
        if settings.redis_url:
            redis = Redis.from_url(settings.redis_url)
            stack.push_async_callback(redis.aclose)
            redis_bus = RedisBus(redis, prefix=settings.redis_prefix)
            stack.push_async_callback(redis_bus.close)
            bus = redis_bus
        if auth is not None:
            stack.callback(auth.close)
        rt = Runtime(
            cipher=cipher,
            http=http,
            graph_url=settings.graph_url,
            redirect_uri=settings.oauth_redirect_uri,
            admin_consent_redirect_uri=settings.admin_consent_redirect_uri,
            auth=auth,
            bus=bus,
            liveness=liveness(settings),
            worker_name=settings.worker_name or default_worker_name(),
            full_sync_every=timedelta(hours=settings.full_sync_hours),
            mass_change_min_users=settings.mass_change_min_users,
        )
        # Closed first (the stack unwinds backwards): runs executing here stop while the
        # database, HTTP session and bus they use are still open.
        runner = SyncRunner(run_queue(settings, rt))
        rt.extras["runner"] = runner
        stack.push_async_callback(runner.shutdown)
        yield rt


def liveness(settings: Settings) -> Liveness:
    return Liveness(
        heartbeat_every=settings.run_heartbeat_seconds,
        stale_after=settings.run_stale_after_seconds,
        queue_timeout=settings.run_queue_timeout_seconds,
    )


def run_queue(settings: Settings, rt: Runtime) -> TaskiqRunQueue:
    """Embedded: runs execute in this process. External: they go to Redis for the workers."""
    if settings.workers == "external":
        assert settings.redis_url  # Settings refuses external without it
        return TaskiqRunQueue(redis_broker(settings.redis_url, settings.redis_prefix))
    return embedded_queue(rt)
