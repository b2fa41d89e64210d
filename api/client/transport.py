"""The API over HTTP (POST /graphql) and graphql-transport-ws (subscriptions), with aiohttp.

Every failure becomes a ClientError with its exit code; the key is sent only in the
Authorization header (HTTP) or the connection_init payload (websocket), never printed.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Self
from urllib.parse import urlsplit, urlunsplit

import aiohttp

from api.client.errors import (
    AUTH,
    SERVER,
    USAGE,
    ClientError,
    from_graphql_errors,
    from_typed_error,
)

PROTOCOL = "graphql-transport-ws"
MAX_RATE_LIMIT_RETRIES = 3
MAX_RETRY_AFTER = 60.0  # seconds we wait for a 429 to clear before giving up
PAGE_SIZE = 100  # asked first; servers with a smaller ENTRASYNC_MAX_PAGE_SIZE get their default


def endpoint_urls(base: str) -> tuple[str, str]:
    """(http endpoint, websocket endpoint) of the API at `base` (with or without /graphql).

    Raises ClientError(USAGE) for anything but an http(s) URL with a host.
    """
    parts = urlsplit(base.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ClientError(USAGE, f"--url must be an http:// or https:// address, not {base!r}")
    path = parts.path.rstrip("/")
    if not path.endswith("/graphql"):
        path += "/graphql"
    http = urlunsplit((parts.scheme, parts.netloc, path, "", ""))
    ws = urlunsplit(("wss" if parts.scheme == "https" else "ws", parts.netloc, path, "", ""))
    return http, ws


def _is_loopback(host: str | None) -> bool:
    return host in ("localhost", "127.0.0.1", "::1") or (host or "").startswith("127.")


@dataclass
class ApiClient:
    """One session with the API; use as `async with ApiClient(url, key, timeout) as api`."""

    url: str
    key: str
    timeout: float = 30.0

    def __post_init__(self) -> None:
        self.http_url, self.ws_url = endpoint_urls(self.url)
        self._session: aiohttp.ClientSession | None = None
        self._page_size: int | None = PAGE_SIZE
        parts = urlsplit(self.http_url)
        if parts.scheme == "http" and not _is_loopback(parts.hostname):
            print(
                f"warning: the API key is sent to {parts.hostname} over plain http; use https",
                file=sys.stderr,
            )

    def __repr__(self) -> str:  # never show the key
        return f"ApiClient(url={self.http_url!r})"

    async def __aenter__(self) -> Self:
        self._session = aiohttp.ClientSession(
            headers={"User-Agent": "entrasync-client"},
            timeout=aiohttp.ClientTimeout(total=None, connect=self.timeout),
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    @property
    def session(self) -> aiohttp.ClientSession:
        assert self._session is not None, "use ApiClient as an async context manager"
        return self._session

    def _unreachable(self, exc: BaseException) -> ClientError:
        reason = (
            "no answer in time" if isinstance(exc, TimeoutError) else str(exc) or type(exc).__name__
        )
        return ClientError(SERVER, f"cannot reach the server at {self.http_url}: {reason}")

    # -- HTTP ------------------------------------------------------------------------------

    async def execute(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """Run one query or mutation; returns `data`. Raises ClientError."""
        body = {"query": query, "variables": variables or {}}
        headers = {"Authorization": f"Bearer {self.key}", "Content-Type": "application/json"}
        for attempt in range(MAX_RATE_LIMIT_RETRIES + 1):
            try:
                async with self.session.post(
                    self.http_url,
                    data=json.dumps(body),
                    headers=headers,
                    timeout=aiohttp.ClientTimeout(total=self.timeout),
                    allow_redirects=False,
                ) as resp:
                    status = resp.status
                    retry_after = resp.headers.get("Retry-After", "")
                    text = await resp.text(errors="replace")
            except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                raise self._unreachable(exc) from None
            if status == 429 and attempt < MAX_RATE_LIMIT_RETRIES:
                wait = float(retry_after) if retry_after.isdigit() else 1.0
                if wait <= MAX_RETRY_AFTER:
                    print(f"rate limited; retrying in {wait:g}s", file=sys.stderr)
                    await asyncio.sleep(wait)
                    continue
            return self._decode(status, text)
        raise AssertionError("unreachable")  # pragma: no cover

    def _decode(self, status: int, text: str) -> dict[str, Any]:
        try:
            payload = json.loads(text)
        except ValueError:
            payload = None
        errors = payload.get("errors") if isinstance(payload, dict) else None
        if status == 401:
            detail = from_graphql_errors(errors).message if errors else "unauthorized"
            raise ClientError(AUTH, f"the server refused the API key (401: {detail})")
        if status == 403:
            raise ClientError(AUTH, "permission denied (403)")
        if status == 429:
            raise ClientError(SERVER, "the server kept refusing: rate limited (429); try later")
        if status >= 500 or status == 408:
            raise ClientError(SERVER, f"the server answered {status}")
        if status in (301, 302, 303, 307, 308):
            raise ClientError(USAGE, f"the server redirected ({status}): check --url")
        if not isinstance(payload, dict):
            raise ClientError(SERVER, f"the server answered {status} with no GraphQL response")
        if errors:
            refused = from_graphql_errors(errors)
            if 400 <= status < 500 and refused.exit_code == SERVER:
                refused.exit_code = USAGE  # the request itself was refused
            raise refused
        if status != 200 or not isinstance(payload.get("data"), dict):
            raise ClientError(SERVER, f"the server answered {status} with no data")
        data: dict[str, Any] = payload["data"]
        return data

    async def mutate(
        self, name: str, query: str, variables: dict[str, Any], payload_type: str
    ) -> dict[str, Any]:
        """Run a mutation and return its payload; a typed error becomes a ClientError."""
        result = (await self.execute(query, variables))[name]
        if not isinstance(result, dict) or result.get("__typename") != payload_type:
            raise from_typed_error(result if isinstance(result, dict) else {})
        return result

    async def paginate(
        self, query: str, field: str, variables: dict[str, Any] | None = None
    ) -> AsyncIterator[dict[str, Any]]:
        """Every node of a Relay connection `field`; the query takes $first and $after."""
        after: str | None = None
        while True:
            vars_ = dict(variables or {}, first=self._page_size, after=after)
            try:
                page = (await self.execute(query, vars_))[field]
            except ClientError as exc:
                if exc.code == "BAD_PAGE_SIZE" and self._page_size is not None:
                    self._page_size = None  # the server's default size fits its maximum
                    continue
                raise
            for node in page["nodes"]:
                yield node
            info = page["pageInfo"]
            if not info["hasNextPage"]:
                return
            after = info["endCursor"]

    async def node(self, node_id: str, fragment: str) -> dict[str, Any] | None:
        """`node(id)` with a fragment (e.g. `... on SyncRun { id status }`); None when missing."""
        query = f"query($id: ID!) {{ node(id: $id) {{ __typename {fragment} }} }}"
        found = (await self.execute(query, {"id": node_id}))["node"]
        return found if isinstance(found, dict) else None

    # -- websocket -------------------------------------------------------------------------

    async def subscribe(
        self, query: str, variables: dict[str, Any]
    ) -> AsyncIterator[dict[str, Any]]:
        """Each `data` of a subscription until the server completes it.

        Raises ClientError; a dropped connection is a ClientError(SERVER) with code "WS_LOST".
        """
        try:
            ws = await self.session.ws_connect(
                self.ws_url,
                protocols=(PROTOCOL,),
                heartbeat=max(self.timeout, 5.0),
                timeout=aiohttp.ClientWSTimeout(ws_close=5.0),
            )
        except aiohttp.WSServerHandshakeError as exc:
            if exc.status == 401:
                raise ClientError(AUTH, "the server refused the API key (401)") from None
            raise ClientError(SERVER, f"websocket refused by the server ({exc.status})") from None
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise self._unreachable(exc) from None
        try:
            await ws.send_json(
                {"type": "connection_init", "payload": {"Authorization": f"Bearer {self.key}"}}
            )
            ack = await self._receive(ws, wait=self.timeout)
            if ack.get("type") != "connection_ack":
                raise ClientError(SERVER, f"unexpected websocket message {ack.get('type')!r}")
            await ws.send_json(
                {
                    "id": "1",
                    "type": "subscribe",
                    "payload": {"query": query, "variables": variables},
                }
            )
            while True:
                message = await self._receive(ws, wait=None)
                kind = message.get("type")
                if kind == "ping":
                    await ws.send_json({"type": "pong"})
                elif kind == "next":
                    payload = message.get("payload") or {}
                    if payload.get("errors"):
                        raise from_graphql_errors(payload["errors"])
                    yield payload.get("data") or {}
                elif kind == "error":
                    errors = message.get("payload")
                    raise from_graphql_errors(errors if isinstance(errors, list) else [])
                elif kind == "complete":
                    return
        finally:
            if not ws.closed:
                await ws.close()

    async def _receive(
        self, ws: aiohttp.ClientWebSocketResponse, wait: float | None
    ) -> dict[str, Any]:
        try:
            msg = await ws.receive(timeout=wait)
        except TimeoutError:
            raise ClientError(SERVER, "the server did not answer on the websocket") from None
        if msg.type is aiohttp.WSMsgType.TEXT:
            try:
                decoded = json.loads(msg.data)
            except ValueError:
                raise ClientError(SERVER, "the server sent a malformed websocket message") from None
            if not isinstance(decoded, dict):
                raise ClientError(SERVER, "the server sent a malformed websocket message")
            return decoded
        close_code = ws.close_code
        if close_code == 4403:
            raise ClientError(AUTH, "the server refused the API key (websocket 4403)")
        if close_code == 4429:
            raise ClientError(SERVER, "too many websocket initialisations (4429)")
        raise ClientError(SERVER, f"the websocket closed ({close_code})", code="WS_LOST")
