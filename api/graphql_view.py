"""The /graphql endpoint: bearer-key authentication over HTTP and in connection_init (A5)."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types.unset import UnsetType

from schema.context import Context, Limits
from services.api_keys import authenticate
from services.caller import Caller

log = logging.getLogger("entrasync.api")


def _bearer(value: str | None) -> str | None:
    if not value:
        return None
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _unauthorized(message: str) -> JSONResponse:
    return JSONResponse(
        {"errors": [{"message": message, "extensions": {"code": "UNAUTHENTICATED"}}]},
        status_code=401,
        headers={"WWW-Authenticate": 'Bearer realm="entrasync"'},
    )


class GraphQLApp(GraphQL[Context, None]):
    """Strawberry's ASGI view with our authentication, size limit and typed context."""

    def __init__(
        self, *args: Any, limits: Limits, services: Any, max_bytes: int, **kw: Any
    ) -> None:
        kw.setdefault("subscription_protocols", (GRAPHQL_TRANSPORT_WS_PROTOCOL,))
        super().__init__(*args, **kw)
        self.limits = limits
        self.services = services
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            request = Request(scope, receive)
            length = request.headers.get("content-length")
            if length is not None and (not length.isdigit() or int(length) > self.max_bytes):
                response: Response = JSONResponse(
                    {"errors": [{"message": f"request body larger than {self.max_bytes} bytes"}]},
                    status_code=413,
                )
                await response(scope, receive, send)
                return
            token = _bearer(request.headers.get("authorization"))
            caller = await authenticate(token) if token else None
            if caller is None:
                message = "invalid API key" if token else "missing bearer API key"
                await _unauthorized(message)(scope, receive, send)
                return
            scope.setdefault("state", {})["caller"] = caller
            scope["state"]["request_id"] = request.headers.get("x-request-id") or uuid.uuid4().hex
        await super().__call__(scope, receive, send)

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        caller: Caller | None = request.scope.get("state", {}).get("caller")
        return Context(
            request=request,
            response=response,
            limits=self.limits,
            services=self.services,
            caller=caller,
        )

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        params = context.connection_params or {}
        raw = params.get("Authorization") or params.get("authorization")
        token = _bearer(raw) if isinstance(raw, str) else None
        if token is None and isinstance(params.get("apiKey"), str):
            token = params["apiKey"]
        caller = await authenticate(token) if token else None
        if caller is None:
            raise ConnectionRejectionError()
        context.caller = caller
        return None
