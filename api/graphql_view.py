"""The /graphql endpoint: bearer-key authentication over HTTP and in connection_init (A5), and the
transport guards in front of GraphQL (OWASP GraphQL cheat sheet).

Over HTTP, in this order, each refusal a JSON body `{"errors": [{"message", "extensions": {"code"}}]}`:
GET in production (405), a content type other than application/json (415: no form or multipart
POSTs, so no CSRF "simple requests"), a declared length over the limit (413), a client address
over its failed-authentication limit (429), a missing or unknown key (401), a key over its rate
limit (429), a body (chunked or not) that grows past the limit (413) or arrives too slowly (408),
a body that is not one JSON object (400, batches of operations included). Only then does
strawberry's schema run the operation: a POST goes straight to `schema.execute` with the body
parsed once here (strawberry's view would parse the request a second time), GET (GraphiQL in
development) through strawberry's view. Websocket frames that do not follow
graphql-transport-ws close the socket with 4400, and every subscribe counts against the key's
rate limit.
"""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
from typing import Any

from cross_web import HTTPException
from graphql import GraphQLSyntaxError, parse
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError, MissingQueryError
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.types.graphql import OperationType
from strawberry.types.unset import UnsetType

from api.ratelimit import InProcessLimiter, RateLimiter
from api.transport import (
    HTTP_CODES,
    BodyTooLarge,
    ClientGone,
    Guards,
    bearer,
    client_address,
    error_response,
    frame_error,
    is_json,
    parse_envelope,
    rate_limited,
    read_body,
    replay_body,
    unauthorized,
)
from schema.context import Context, Limits
from services.api_keys import authenticate
from services.caller import Caller
from services.logctx import request_id

log = logging.getLogger("entrasync.api")

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
# A3: subscriptions are served over graphql-transport-ws only; a POSTed one gets a clear error.
_POST_OPERATIONS = frozenset({OperationType.QUERY, OperationType.MUTATION})
_SUBSCRIPTION_OVER_HTTP = {
    "data": None,
    "errors": [
        {
            "message": "subscriptions are served over websockets (graphql-transport-ws) only",
            "extensions": {"code": "BAD_REQUEST"},
        }
    ],
}


def _new_request_id(offered: str | None = None) -> str:
    """The client's X-Request-Id when it is a plain token (no log injection), else a fresh one."""
    return offered if offered and _REQUEST_ID.match(offered) else uuid.uuid4().hex


class GuardedTransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """graphql-transport-ws, refusing malformed frames and counting subscribes against the key."""

    async def handle_message(self, message: Any) -> None:
        if reason := frame_error(message):
            await self.handle_invalid_message(reason)
            return
        if message["type"] != "subscribe" or not self.connection_acknowledged:
            await super().handle_message(message)  # a subscribe before the ack closes with 4401
            return
        # strawberry's parser cache lets a syntax error escape the operation task (the client
        # gets a bare "complete"); the protocol says such a subscribe closes the socket with 4400.
        view = self.view
        max_tokens = view.guards.max_tokens if isinstance(view, GraphQLApp) else None
        try:
            parse(message["payload"]["query"], max_tokens=max_tokens)
        except GraphQLSyntaxError as exc:
            reason = exc.message.encode()[:120].decode(errors="ignore")
            await self.websocket.close(code=4400, reason=reason)
            return
        if retry := await self._rate_limited():
            await self.send_message(
                {
                    "id": message["id"],
                    "type": "error",
                    "payload": [
                        {
                            "message": f"rate limit exceeded; retry after {retry} seconds",
                            "extensions": {"code": "RATE_LIMITED", "retryAfter": retry},
                        }
                    ],
                }
            )
            return
        await super().handle_message(message)

    async def _rate_limited(self) -> int | None:
        view, caller = self.view, self.context.caller
        if not isinstance(view, GraphQLApp) or caller is None:
            return None
        return await view.limiter.acquire(f"key:{caller.api_key_id}", view.guards.key_limit)


class GraphQLApp(GraphQL[Context, None]):
    """Strawberry's ASGI view with our authentication, transport guards and typed context."""

    graphql_transport_ws_handler_class = GuardedTransportWSHandler

    def __init__(
        self,
        *args: Any,
        limits: Limits,
        services: Any,
        guards: Guards,
        limiter: RateLimiter | None = None,
        **kw: Any,
    ) -> None:
        kw.setdefault("subscription_protocols", (GRAPHQL_TRANSPORT_WS_PROTOCOL,))
        super().__init__(*args, **kw)
        self.limits = limits
        self.services = services
        self.guards = guards
        self.limiter: RateLimiter = limiter or InProcessLimiter()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Every request and websocket has an id (logs, tests/security's SQL audit); tasks started
        # while serving it (DataLoaders, queued runs) inherit it. A middleware may have set it.
        token = None
        if request_id.get() is None:
            offered = HTTPConnection(scope).headers.get("x-request-id")
            token = request_id.set(_new_request_id(offered))
        try:
            if scope["type"] != "http":
                await super().__call__(scope, receive, send)
                return
            response = await self._handle_http(scope, receive)
            await response(scope, receive, send)
        finally:
            if token is not None:
                request_id.reset(token)

    async def _handle_http(self, scope: Scope, receive: Receive) -> Response:
        guards = self.guards
        if scope["method"] == "GET" and guards.production:
            return error_response(
                405,
                "GraphQL operations are accepted only as POST application/json",
                "METHOD_NOT_ALLOWED",
                {"Allow": "POST"},
            )
        if scope["method"] == "POST":
            refusal = await self._admit(scope)
            if isinstance(refusal, Response):
                return refusal
            try:
                async with asyncio.timeout(guards.body_timeout):
                    body = await read_body(receive, guards.max_bytes)
            except BodyTooLarge:
                return self._too_large()
            except TimeoutError:
                return error_response(
                    408,
                    f"the request body was not received within {guards.body_timeout:g} seconds",
                    "REQUEST_TIMEOUT",
                )
            except ClientGone:
                return Response(status_code=400)
            data = parse_envelope(body)
            if isinstance(data, str):
                return error_response(400, data, "BAD_REQUEST")
            return await self._execute(Request(scope, replay_body(body, receive)), data)
        try:
            return await self.run(Request(scope, receive))
        except HTTPException as exc:
            code = HTTP_CODES.get(exc.status_code, "BAD_REQUEST")
            return error_response(exc.status_code, exc.reason, code)

    async def _execute(self, request: Request, data: dict[str, Any]) -> Response:
        """One POSTed operation, as strawberry's view runs it, minus parsing the request again.

        `data` passed `parse_envelope`: `query` is a string; `variables`, `operationName` and
        `extensions` are absent or of the right type; and the content type is JSON.
        """
        sub_response = await self.get_sub_response(request)
        context = await self.get_context(request, response=sub_response)
        try:
            result = await self.schema.execute(
                data["query"],
                variable_values=data.get("variables"),
                context_value=context,
                root_value=None,  # what strawberry's get_root_value gives
                operation_name=data.get("operationName"),
                allowed_operation_types=_POST_OPERATIONS,
                operation_extensions=data.get("extensions"),
            )
        # The refusals of strawberry's execute_single, with the same reasons.
        except CannotGetOperationTypeError as exc:
            return error_response(400, exc.as_http_error_reason(), "BAD_REQUEST")
        except InvalidOperationTypeError as exc:
            if exc.operation_type is OperationType.SUBSCRIPTION:
                return JSONResponse(_SUBSCRIPTION_OVER_HTTP)
            return error_response(400, exc.as_http_error_reason("POST"), "BAD_REQUEST")
        except MissingQueryError:
            return error_response(400, "No GraphQL query found in the request", "BAD_REQUEST")
        return self.create_response(await self.process_result(request, result), sub_response)

    def _too_large(self) -> Response:
        return error_response(
            413, f"request body larger than {self.guards.max_bytes} bytes", "PAYLOAD_TOO_LARGE"
        )

    async def _admit(self, scope: Scope) -> Response | None:
        """Refuse by headers alone (type, size, rate, key); store the caller on the scope."""
        guards = self.guards
        request = Request(scope)
        if not is_json(request.headers.get("content-type")):
            return error_response(
                415, "Content-Type must be application/json", "UNSUPPORTED_MEDIA_TYPE"
            )
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > guards.max_bytes):
            return self._too_large()
        address = f"addr:{client_address(scope)}"
        if (retry := await self.limiter.blocked(address, guards.anonymous_limit)) is not None:
            return rate_limited(retry)
        token = bearer(request.headers.get("authorization"))
        caller = await authenticate(token) if token else None
        if caller is None:
            await self.limiter.acquire(address, guards.anonymous_limit)
            return unauthorized("invalid API key" if token else "missing bearer API key")
        if (
            retry := await self.limiter.acquire(f"key:{caller.api_key_id}", guards.key_limit)
        ) is not None:
            return rate_limited(retry)
        scope.setdefault("state", {})["caller"] = caller
        scope["state"]["request_id"] = request_id.get()
        return None

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
        address = f"addr:{client_address(context.request.scope)}"
        if await self.limiter.blocked(address, self.guards.anonymous_limit) is not None:
            raise ConnectionRejectionError()
        params = context.connection_params or {}
        raw = params.get("Authorization") or params.get("authorization")
        token = bearer(raw) if isinstance(raw, str) else None
        if token is None and isinstance(params.get("apiKey"), str):
            token = params["apiKey"]
        caller = await authenticate(token) if token else None
        if caller is None:
            await self.limiter.acquire(address, self.guards.anonymous_limit)
            raise ConnectionRejectionError()
        context.caller = caller
        return None
