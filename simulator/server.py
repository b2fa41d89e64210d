"""The simulator's aiohttp server: routes, fault and logging middleware, and `run_simulator`."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from aiohttp import web
from multidict import CIMultiDict

from simulator.admin import admin_app
from simulator.context import ENDPOINT, STATE, Endpoint, state_of
from simulator.fault_responses import graph_fault, login_fault_body, retry_after_header
from simulator.faults import Fault
from simulator.graph_app import graph_endpoint, to_web
from simulator.graph_http import GraphRequest
from simulator.login_authorize import admin_consent, authorize, decide
from simulator.login_discovery import keys, openid_configuration
from simulator.login_token import token
from simulator.registration import AppRegistration
from simulator.state import RequestRecord, SimState
from simulator.tenant import SimTenant, generate_tenant

_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class Simulator:
    """A running simulator. `base_url` is plain HTTP; msal is given `authority(...)` (https)."""

    base_url: str
    graph_url: str
    state: SimState

    def tenant(self, tenant_id_or_domain: str) -> SimTenant:
        return self.state.tenant(tenant_id_or_domain)

    def authority(self, tenant: str = "organizations") -> str:
        """The https authority msal wants (its http_client must rewrite it to base_url)."""
        return "https" + self.base_url.removeprefix("http") + "/" + tenant


def _fault_response(fault: Fault, request: web.Request) -> web.Response:
    if request.path.startswith("/v1.0/"):
        graph_request = GraphRequest(
            request.method, request.path[5:], "", CIMultiDict(request.headers)
        )
        return to_web(graph_fault(fault, graph_request))
    body = login_fault_body(fault, request.headers.get("client-request-id"))
    return web.json_response(body, status=fault.status, headers=retry_after_header(fault))


async def _drop_midway(request: web.Request, response: web.Response) -> web.StreamResponse:
    """Send the headers and half the body, then cut the connection (a mid-response drop)."""
    body = response.body if isinstance(response.body, bytes) else b"{}"
    stream = web.StreamResponse(status=response.status, headers=response.headers)
    stream.content_length = len(body)
    await stream.prepare(request)
    await stream.write(body[: len(body) // 2])
    if request.transport is not None:
        request.transport.close()
    return stream


@web.middleware
async def _faults_and_log(request: web.Request, handler: _Handler) -> web.StreamResponse:
    """Apply injected faults and record every request (except the admin API) in state.requests."""
    state = state_of(request)
    if request.path.startswith("/_sim/"):
        return await handler(request)
    query = request.raw_path.partition("?")[2]
    fault = state.faults.take(request.path)
    if fault is not None and fault.delay:
        await asyncio.sleep(fault.delay)
    try:
        if fault is not None and not fault.drop:
            response: web.StreamResponse = _fault_response(fault, request)
        else:
            response = await handler(request)
    except web.HTTPException as exc:
        state.requests.append(
            RequestRecord(request.method, request.path, query, exc.status, time.monotonic())
        )
        raise
    retry_after = response.headers.get("Retry-After")
    drop = fault is not None and fault.drop and isinstance(response, web.Response)
    state.requests.append(
        RequestRecord(
            request.method,
            request.path,
            query,
            response.status,
            time.monotonic(),
            float(retry_after) if retry_after else None,
            dropped=drop,
        )
    )
    if drop and isinstance(response, web.Response):
        return await _drop_midway(request, response)
    return response


def build_app(state: SimState, endpoint: Endpoint) -> web.Application:
    app = web.Application(middlewares=[_faults_and_log], client_max_size=4 * 1024 * 1024)
    app[STATE] = state
    app[ENDPOINT] = endpoint
    router = app.router
    router.add_get("/{tenant}/v2.0/.well-known/openid-configuration", openid_configuration)
    router.add_get("/{tenant}/discovery/v2.0/keys", keys)
    router.add_get("/{tenant}/oauth2/v2.0/authorize", authorize)
    router.add_post("/{tenant}/oauth2/v2.0/authorize", decide)
    router.add_post("/{tenant}/oauth2/v2.0/token", token)
    router.add_get("/{tenant}/v2.0/adminconsent", admin_consent)
    router.add_post("/{tenant}/v2.0/adminconsent", decide)
    app.add_subapp("/_sim/", admin_app())
    router.add_route("*", "/v1.0/{tail:.*}", graph_endpoint)
    return app


@asynccontextmanager
async def run_simulator(
    *,
    tenants: list[SimTenant] | None = None,
    apps: list[AppRegistration] | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    auto_accept: bool = False,
) -> AsyncIterator[Simulator]:
    """Serve the simulator until the block exits. No tenants: one small demo tenant (seed 1)."""
    state = SimState.create(
        tenants if tenants is not None else [generate_tenant(seed=1, domain="contoso.example")],
        apps,
        auto_accept=auto_accept,
    )
    endpoint = Endpoint()
    app = build_app(state, endpoint)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        bound_port = runner.addresses[0][1]
        shown_host = "127.0.0.1" if host in ("0.0.0.0", "") else host
        base_url = f"http://{shown_host}:{bound_port}"
        endpoint.base_url = base_url
        yield Simulator(base_url=base_url, graph_url=base_url + "/v1.0", state=state)
    finally:
        await runner.cleanup()
