"""Token sources for GraphClient: one stored sign-in (delegated) or one tenant (app-only)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Protocol

from entra.auth import EntraAuth

# msal itself treats an access token with less than 5 minutes left as expired.
_EXPIRY_MARGIN = 300.0


class TokenSource(Protocol):
    """What GraphClient calls for a bearer token; `force_refresh` after Graph answered 401."""

    async def __call__(self, *, force_refresh: bool = False) -> str: ...


class _CachingSource:
    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._lock = asyncio.Lock()
        self._token: str | None = None
        self._expires_at = 0.0
        self._generation = 0

    def __repr__(self) -> str:
        return f"{type(self).__name__}(has_token={self._token is not None})"

    async def _fetch(self, force_refresh: bool) -> tuple[str, int]:
        raise NotImplementedError

    async def __call__(self, *, force_refresh: bool = False) -> str:
        """Return a bearer token; raises the AuthError subtypes of EntraAuth."""
        generation = self._generation
        async with self._lock:
            if self._token is not None:
                if not force_refresh and self._clock() < self._expires_at:
                    return self._token
                if force_refresh and self._generation != generation:
                    # Another caller refreshed while this one waited (concurrent 401s).
                    return self._token
            token, expires_in = await self._fetch(force_refresh)
            self._token = token
            self._expires_at = self._clock() + max(0.0, expires_in - _EXPIRY_MARGIN)
            self._generation += 1
            return token


class DelegatedTokenSource(_CachingSource):
    """Tokens from one connection's stored sign-in, kept in memory until near expiry.

    When msal rotates the refresh token the new serialized cache is in `token_cache` (and
    `cache_changed` turns true); `on_cache_change` is awaited with it at once, so the caller can
    encrypt and persist it before the run goes on.
    """

    def __init__(
        self,
        auth: EntraAuth,
        *,
        token_cache: str,
        home_account_id: str,
        tenant_id: str,
        on_cache_change: Callable[[str], Awaitable[None]] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(clock)
        self._auth = auth
        self._cache = token_cache
        self._home_account_id = home_account_id
        self._tenant_id = tenant_id
        self._on_cache_change = on_cache_change
        self.cache_changed = False

    @property
    def token_cache(self) -> str:
        return self._cache

    async def _fetch(self, force_refresh: bool) -> tuple[str, int]:
        result = await self._auth.acquire_token(
            self._cache, self._home_account_id, self._tenant_id, force_refresh=force_refresh
        )
        if result.token_cache is not None:
            self._cache = result.token_cache
            self.cache_changed = True
            if self._on_cache_change is not None:
                await self._on_cache_change(result.token_cache)
        return result.access_token, result.expires_in


class AppTokenSource(_CachingSource):
    """Client-credentials tokens for one tenant that has granted admin consent."""

    def __init__(
        self, auth: EntraAuth, *, tenant_id: str, clock: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__(clock)
        self._auth = auth
        self._tenant_id = tenant_id

    async def _fetch(self, force_refresh: bool) -> tuple[str, int]:
        result = await self._auth.acquire_app_token(self._tenant_id, force_refresh=force_refresh)
        return result.access_token, result.expires_in
