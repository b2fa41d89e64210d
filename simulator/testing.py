"""Driving the simulator from tests: real msal pointed at it, a browser-like authorize, raw Graph calls."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from html import unescape
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import aiohttp
import msal
import requests
import yarl

from simulator.registration import DEMO_APP
from simulator.server import Simulator

GRAPH_SCOPES = [
    "https://graph.microsoft.com/GroupMember.Read.All",
    "https://graph.microsoft.com/User.Read.All",
]
REDIRECT_URI = DEMO_APP.redirect_uris[0]


class LoopbackRewritingSession(requests.Session):
    """msal's `http_client`: msal insists on https, the simulator serves plain HTTP on loopback."""

    def __init__(self, base_url: str) -> None:
        super().__init__()
        self.trust_env = False  # proxies from the environment must not see loopback calls
        self._http = base_url.rstrip("/") + "/"
        self._https = "https" + self._http.removeprefix("http")

    def request(self, method: str, url: Any, *args: Any, **kwargs: Any) -> requests.Response:
        if isinstance(url, str) and url.startswith(self._https):
            url = self._http + url[len(self._https) :]
        return super().request(method, url, *args, **kwargs)


def to_http(sim: Simulator, url: str) -> str:
    """The URL a browser really visits for an https URL msal built (e.g. the auth_uri)."""
    https = sim.authority("")
    return sim.base_url + "/" + url[len(https) :] if url.startswith(https) else url


def msal_app(
    sim: Simulator,
    tenant: str = "organizations",
    *,
    client_id: str = DEMO_APP.client_id,
    client_secret: str = DEMO_APP.client_secret,
    token_cache: Any = None,
) -> Any:
    """A real `msal.ConfidentialClientApplication` bound to the simulator (setup 1 of the reference)."""
    return msal.ConfidentialClientApplication(
        client_id,
        client_credential=client_secret,
        authority=sim.authority(tenant),
        validate_authority=False,
        instance_discovery=False,
        azure_region=False,
        http_client=LoopbackRewritingSession(sim.base_url),
        token_cache=token_cache,
    )


_HIDDEN_INPUT = re.compile(r'<input type="hidden" name="([^"]*)" value="([^"]*)">')


async def follow_authorize(sim: Simulator, auth_uri: str) -> dict[str, str]:
    """Visit an authorize (or adminconsent) URL as a browser would, with auto-accept on, and
    return what reaches the app: the redirect's query/fragment, or the form_post fields."""
    async with (
        aiohttp.ClientSession() as session,
        session.get(to_http(sim, auth_uri), allow_redirects=False) as response,
    ):
        location = response.headers.get("Location")
        text = await response.text()
    if response.status == 302 and location is not None:
        parts = urlsplit(location)
        return dict(parse_qsl(parts.fragment or parts.query))
    fields = {unescape(k): unescape(v) for k, v in _HIDDEN_INPUT.findall(text)}
    if response.status != 200 or not fields or 'method="post"' not in text:
        raise AssertionError(f"no authorization response: {response.status} {text[:500]}")
    return fields


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: Any  # parsed JSON, or text for non-JSON bodies


@dataclass
class GraphCaller:
    """Bare aiohttp calls to the simulated Graph, links sent byte for byte (yarl encoded=True)."""

    sim: Simulator
    session: aiohttp.ClientSession
    token: str

    async def request(
        self,
        method: str,
        path_or_url: str,
        *,
        token: str | None = None,
        headers: dict[str, str] | None = None,
        json: Any = None,
    ) -> Reply:
        # Links from the server go out byte for byte; hand-written paths get quoted by yarl.
        if "://" in path_or_url:
            url = yarl.URL(path_or_url, encoded=True)
        else:
            url = yarl.URL(self.sim.graph_url + path_or_url)
        all_headers = {"Authorization": f"Bearer {self.token if token is None else token}"}
        all_headers.update(headers or {})
        async with self.session.request(method, url, headers=all_headers, json=json) as response:
            text = await response.text()
            is_json = response.content_type == "application/json"
            body = await response.json(content_type=None) if is_json and text else text
            return Reply(response.status, dict(response.headers), body)

    async def get(self, path_or_url: str, **kwargs: Any) -> Reply:
        return await self.request("GET", path_or_url, **kwargs)

    async def all_pages(self, path: str, **kwargs: Any) -> tuple[list[dict[str, Any]], Reply]:
        """Follow nextLinks; returns all items and the last reply (which holds any deltaLink)."""
        items: list[dict[str, Any]] = []
        url: str | None = path
        while url is not None:
            reply = await self.get(url, **kwargs)
            assert reply.status == 200, reply.body
            items.extend(reply.body["value"])
            url = reply.body.get("@odata.nextLink")
        return items, reply


async def sign_in(
    sim: Simulator,
    tenant: str = "organizations",
    scopes: list[str] | None = None,
    **flow_kwargs: Any,
) -> tuple[Any, dict[str, Any]]:
    """msal's whole auth-code flow against the simulator (auto-accept on): (msal app, result)."""
    app = await asyncio.to_thread(msal_app, sim, tenant)
    # form_post, because msal warns on any other response_mode.
    flow = app.initiate_auth_code_flow(
        scopes or GRAPH_SCOPES, redirect_uri=REDIRECT_URI, response_mode="form_post", **flow_kwargs
    )
    params = await follow_authorize(sim, flow["auth_uri"])
    result = await asyncio.to_thread(app.acquire_token_by_auth_code_flow, flow, params)
    return app, result


SignIn = Callable[..., Awaitable[tuple[Any, dict[str, Any]]]]
