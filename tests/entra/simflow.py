"""Drive the simulator's browser side for entra tests: follow authorize/adminconsent redirects."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlsplit

import aiohttp

from entra.auth import EntraAuth
from entra.oauth import SignInResult, SignInStart
from simulator.tenant import SimTenant

REDIRECT_URI = "http://127.0.0.1:8000/oauth/callback"
ADMIN_CONSENT_REDIRECT = "http://127.0.0.1:8000/oauth/adminconsent"


async def follow(http: aiohttp.ClientSession, uri: str) -> dict[str, str]:
    """GET a login URL as a browser would (auto_accept) and return the redirect's parameters."""
    async with http.get(uri, allow_redirects=False) as resp:
        assert resp.status == 302, await resp.text()
        location = resp.headers["Location"]
    return dict(parse_qsl(urlsplit(location).query))


async def start_and_follow(
    auth: EntraAuth, http: aiohttp.ClientSession, login_hint: str
) -> tuple[SignInStart, dict[str, str]]:
    start = await auth.start_sign_in(REDIRECT_URI, login_hint=login_hint)
    return start, await follow(http, start.auth_uri)


async def sign_in(auth: EntraAuth, http: aiohttp.ClientSession, login_hint: str) -> SignInResult:
    """The whole connect flow: start, consent (auto-accepted), complete."""
    start, params = await start_and_follow(auth, http, login_hint)
    return await auth.complete_sign_in(start.flow, params)


class SimToken:
    """A TokenSource handing out tokens the simulator issued as its token endpoint would."""

    def __init__(self, sim: Any, tenant: SimTenant, *, app_only: bool = False) -> None:
        self._sim, self._tenant, self._app_only = sim, tenant, app_only
        self.token: str | None = None

    async def __call__(self, *, force_refresh: bool = False) -> str:
        if self.token is None or force_refresh:
            self.token = self._sim.state.issue_access_token(self._tenant, app_only=self._app_only)
        return self.token
