"""Graph's request/response model, error shape, bearer-token checks and the route table dispatcher."""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote

from multidict import CIMultiDict

from simulator.grants import AccessGrant
from simulator.state import SimState
from simulator.tenant import SimTenant
from simulator.wire import dumps, graph_date

JSON_TYPE = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"
CONTEXT_BASE = "https://graph.microsoft.com/v1.0/$metadata#"
WWW_AUTHENTICATE = (
    'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", '
    'client_id="00000003-0000-0000-c000-000000000000"'
)

USERS_READ = frozenset(
    {"User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}
)
GROUPS_READ = frozenset(
    {
        "GroupMember.Read.All",
        "GroupMember.ReadWrite.All",
        "Group.Read.All",
        "Group.ReadWrite.All",
        "Directory.Read.All",
        "Directory.ReadWrite.All",
    }
)
ORGANIZATION_READ = USERS_READ | {"User.Read", "Organization.Read.All"}


class GraphError(Exception):
    """Raised by handlers; becomes `{"error":{"code","message","innerError"}}`."""

    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers = headers or {}


def bad_request(message: str, code: str = "Request_BadRequest") -> GraphError:
    return GraphError(400, code, message)


def not_found(object_id: str) -> GraphError:
    return GraphError(
        404,
        "Request_ResourceNotFound",
        f"Resource '{object_id}' does not exist or one of its queried reference-property objects "
        "are not present.",
    )


@dataclass
class GraphRequest:
    method: str
    path: str  # below /v1.0, e.g. "/users/delta"
    raw_query: str  # byte-for-byte as sent, so nextLinks can repeat it
    headers: CIMultiDict[str]
    body: bytes = b""
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    params: dict[str, str] = field(init=False)
    repeated: str | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        # OData option names are case-insensitive; values stay as sent (after URL decoding).
        self.params = {}
        for key, value in parse_qsl(self.raw_query, keep_blank_values=True):
            name = key.lower() if key.startswith("$") else key
            if name in self.params:
                self.repeated = name
            self.params[name] = value

    @property
    def eventual(self) -> bool:
        """`ConsistencyLevel: eventual`: the advanced-query switch."""
        return self.headers.get("ConsistencyLevel", "").lower() == "eventual"

    @property
    def client_request_id(self) -> str:
        return self.headers.get("client-request-id") or self.request_id


@dataclass
class GraphResponse:
    status: int
    body: bytes
    content_type: str = JSON_TYPE
    headers: dict[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


def error_body(status: int, code: str, message: str, request: GraphRequest) -> dict[str, Any]:
    inner: dict[str, Any] = {
        "date": graph_date(),
        "request-id": request.request_id,
        "client-request-id": request.client_request_id,
    }
    if status == 429:
        inner.update({"code": "429", "message": "Please retry after", "status": "429"})
    return {"error": {"code": code, "message": message, "innerError": inner}}


def error_response(error: GraphError, request: GraphRequest) -> GraphResponse:
    body = dumps(error_body(error.status, error.code, error.message, request))
    return GraphResponse(error.status, body, "application/json", dict(error.headers))


@dataclass
class GraphContext:
    """Who is calling: the token's grant and tenant, and what the simulator serves on."""

    state: SimState
    tenant: SimTenant
    grant: AccessGrant
    graph_url: str  # absolute base of nextLinks, e.g. http://127.0.0.1:PORT/v1.0

    def require(self, accepted: frozenset[str]) -> None:
        """403 unless the token holds one of `accepted` and the tenant's consent still stands."""
        consent = self.state.grants.consent(self.grant.tenant_id, self.grant.client_id)
        if consent is not None:
            pool = consent.app_roles if self.grant.kind == "app" else consent.delegated
            if self.grant.scopes & pool & accepted:
                return
        raise GraphError(
            403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation."
        )


Handler = Callable[[GraphContext, GraphRequest, "re.Match[str]"], Awaitable[GraphResponse]]


@dataclass
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    resource_units: int = 1


def authenticate(state: SimState, request: GraphRequest) -> tuple[AccessGrant, SimTenant]:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if not token.strip() or scheme.lower() != "bearer":
        raise GraphError(
            401,
            "InvalidAuthenticationToken",
            "Access token is empty.",
            {"WWW-Authenticate": WWW_AUTHENTICATE},
        )
    grant = state.grants.access.get(token.strip())
    if grant is None:
        raise GraphError(
            401,
            "InvalidAuthenticationToken",
            "CompactToken parsing failed with error code: 80049217",
            {"WWW-Authenticate": WWW_AUTHENTICATE},
        )
    if time.time() >= grant.expires_at:
        raise GraphError(
            401,
            "InvalidAuthenticationToken",
            "Access token has expired or is not yet valid.",
            {"WWW-Authenticate": WWW_AUTHENTICATE},
        )
    return grant, state.tenants[grant.tenant_id]


def _resource_units(route: Route, request: GraphRequest) -> int:
    """Identity throttling cost (reference section 4): base, -1 for $select, -1 for $top < 20."""
    cost = route.resource_units
    if "$select" in request.params:
        cost -= 1
    if "$expand" in request.params:
        cost += 1
    top = request.params.get("$top", "")
    if top.isdigit() and int(top) < 20:
        cost -= 1
    return max(1, cost)


async def dispatch(
    state: SimState, routes: list[Route], graph_url: str, request: GraphRequest
) -> GraphResponse:
    """Answer one Graph request (top level or a `$batch` item); faults are applied by the caller."""
    try:
        response = await _dispatch(state, routes, graph_url, request)
    except GraphError as exc:
        response = error_response(exc, request)
    response.headers.setdefault("request-id", request.request_id)
    response.headers.setdefault("client-request-id", request.client_request_id)
    response.headers.setdefault(
        "x-ms-ags-diagnostic",
        '{"ServerInfo":{"DataCenter":"Simulated","Slice":"E","Ring":"0","ScaleUnit":"000","RoleInstance":"SIM"}}',
    )
    return response


async def _dispatch(
    state: SimState, routes: list[Route], graph_url: str, request: GraphRequest
) -> GraphResponse:
    if request.repeated:
        raise bad_request(
            f"Query option '{request.repeated}' was specified more than once, but it must be "
            "specified at most once."
        )
    path = unquote(request.path).rstrip("/") or "/"
    for route in routes:
        match = route.pattern.fullmatch(path)
        if match is None:
            continue
        if route.method != request.method:
            raise GraphError(
                405,
                "Request_BadRequest",
                "Specified HTTP method is not allowed for the request target.",
            )
        grant, tenant = authenticate(state, request)
        context = GraphContext(state, tenant, grant, graph_url)
        response = await route.handler(context, request, match)
        if response.status < 300:
            response.headers["x-ms-resource-unit"] = str(_resource_units(route, request))
            if state.faults.page_delay:
                await asyncio.sleep(state.faults.page_delay)
        return response
    segment = path.strip("/").split("/")[-1] or path
    raise GraphError(400, "BadRequest", f"Resource not found for the segment '{segment}'.")
