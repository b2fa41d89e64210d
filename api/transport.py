"""What /graphql checks before GraphQL runs: the HTTP request's shape, size and body, and the
shape of graphql-transport-ws frames (strawberry assumes both). Refusals are JSON bodies shaped
like GraphQL responses, `{"errors": [{"message", "extensions": {"code"}}]}`."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from starlette.responses import JSONResponse
from starlette.types import Message, Receive, Scope

from api.ratelimit import Limit

HTTP_CODES = {
    400: "BAD_REQUEST",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    408: "REQUEST_TIMEOUT",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
}


def error_response(
    status: int, message: str, code: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    """A refusal shaped like a GraphQL response, so clients parse every failure one way."""
    return JSONResponse(
        {"errors": [{"message": message, "extensions": {"code": code}}]},
        status_code=status,
        headers=headers,
    )


def bearer(value: str | None) -> str | None:
    if not value:
        return None
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def unauthorized(message: str) -> JSONResponse:
    return error_response(
        401, message, "UNAUTHENTICATED", {"WWW-Authenticate": 'Bearer realm="entrasync"'}
    )


def rate_limited(retry_after: int) -> JSONResponse:
    return error_response(
        429,
        f"rate limit exceeded; retry after {retry_after} seconds",
        "RATE_LIMITED",
        {"Retry-After": str(retry_after)},
    )


def is_json(content_type: str | None) -> bool:
    media = (content_type or "").split(";", 1)[0].strip().lower()
    return media == "application/json"


def client_address(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


class BodyTooLarge(Exception):
    pass


class ClientGone(Exception):
    pass


async def read_body(receive: Receive, max_bytes: int) -> bytes:
    """The whole body, refusing it as soon as it passes `max_bytes` (whatever Content-Length said).

    Raises BodyTooLarge, ClientGone.
    """
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > max_bytes:
            raise BodyTooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def envelope_error(body: bytes) -> str | None:
    """Why the body is not one GraphQL-over-HTTP request object, or None when it is."""
    parsed = parse_envelope(body)
    return parsed if isinstance(parsed, str) else None


def parse_envelope(body: bytes) -> dict[str, Any] | str:
    """The body's GraphQL request object, or why it is not one (see `envelope_error`)."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return "the request body is not valid JSON"
    if isinstance(data, list):
        return "batched operations are not supported; send one operation per request"
    if reason := request_error(data):
        return reason
    assert isinstance(data, dict)
    return data


def request_error(data: object) -> str | None:
    """Why `data` is not a GraphQL request object (query, variables, operationName, extensions)."""
    if not isinstance(data, dict):
        return "the request must be a JSON object with a `query`"
    if not isinstance(data.get("query"), str):
        return "`query` must be a string"
    if not isinstance(data.get("variables"), dict | None):
        return "`variables` must be an object or null"
    if not isinstance(data.get("operationName"), str | None):
        return "`operationName` must be a string or null"
    if not isinstance(data.get("extensions"), dict | None):
        return "`extensions` must be an object or null"
    return None


@dataclass(frozen=True, slots=True)
class Guards:
    """The transport limits, from Settings."""

    production: bool
    max_bytes: int
    max_tokens: int
    body_timeout: float
    key_limit: Limit
    anonymous_limit: Limit


_FRAME_TYPES = {"connection_init", "ping", "pong", "subscribe", "complete"}


def frame_error(message: object) -> str | None:
    """Why a websocket frame breaks graphql-transport-ws, or None; strawberry assumes the shape."""
    if not isinstance(message, dict) or message.get("type") not in _FRAME_TYPES:
        return "unknown or malformed message"
    kind = message["type"]
    payload = message.get("payload")
    if kind in ("subscribe", "complete"):
        op_id = message.get("id")
        if not isinstance(op_id, str) or not op_id or len(op_id) > 100:
            return f"`{kind}` needs an `id` string"
    if kind == "subscribe":
        if reason := request_error(payload):
            return f"`subscribe` payload: {reason}"
    elif payload is not None and not isinstance(payload, dict):
        return f"`{kind}` payload must be an object"
    return None


def replay_body(body: bytes, receive: Receive) -> Receive:
    """A receive that hands the already-read body to strawberry, then waits on the client."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
