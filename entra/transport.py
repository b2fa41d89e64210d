"""One Graph HTTP request with bearer auth, bounded retries (R10) and mapping to entra errors."""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote

import aiohttp
import yarl

from entra import metrics
from entra.config import check_origin
from entra.errors import (
    DeltaTokenExpired,
    GraphAccessDenied,
    GraphError,
    GraphNotFound,
    GraphRequestError,
    GraphUnavailable,
)
from entra.tokens import TokenSource

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_DELTA_CODES = frozenset({"syncstatenotfound", "resyncrequired", "syncstateinvalid"})
# Characters left as-is in query values; everything else (space included, as %20) is escaped.
_QUERY_SAFE = "$,'()/:*@=-_.~"


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How hard to try before GraphUnavailable.

    A Retry-After from Graph is always honoured in full (plus a little jitter), never cut short;
    one longer than `max_wait` ends the retries at once. Without Retry-After the wait is
    exponential from `base_delay` with jitter, capped at `max_backoff`.
    """

    max_attempts: int = 6
    max_wait: float = 60.0
    total_budget: float = 180.0
    base_delay: float = 0.5
    max_backoff: float = 30.0
    request_timeout: float = 100.0


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After value: float seconds or an HTTP-date; None if unusable."""
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    if seconds != seconds or seconds in (float("inf"), float("-inf")):
        return None
    return max(0.0, seconds)


def backoff_delay(policy: RetryPolicy, attempt: int) -> float:
    """Exponential backoff with "equal jitter" for retry number `attempt` (1-based)."""
    ceiling = min(policy.max_backoff, policy.base_delay * 2.0 ** (attempt - 1))
    return ceiling / 2 + random.uniform(0, ceiling / 2)  # noqa: S311 - jitter, not crypto


def query_string(params: Mapping[str, str]) -> str:
    """Percent-encode OData query options the way Graph documents them ($ kept, space as %20)."""
    return "&".join(f"{quote(k, safe='$')}={quote(v, safe=_QUERY_SAFE)}" for k, v in params.items())


def segment(value: str) -> str:
    """Quote one path segment (an object id) so it can't change the path."""
    return quote(value, safe="")


@dataclass(frozen=True, slots=True)
class _Failure:
    status: int | None
    code: str | None
    message: str
    request_id: str | None
    retry_after: float | None
    location: str | None = None


def _parse_error(status: int, body: bytes, headers: Mapping[str, str]) -> _Failure:
    code: str | None = None
    message = ""
    request_id = headers.get("request-id") or headers.get("client-request-id")
    try:
        data = json.loads(body) if body else None
    except ValueError:
        data = None
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, dict):
        raw_code, raw_message = error.get("code"), error.get("message")
        code = raw_code if isinstance(raw_code, str) else None
        message = raw_message if isinstance(raw_message, str) else ""
        inner = error.get("innerError") or error.get("innererror")
        if request_id is None and isinstance(inner, dict):
            rid = inner.get("request-id")
            request_id = rid if isinstance(rid, str) else None
    return _Failure(
        status=status,
        code=code,
        message=message,
        request_id=request_id,
        retry_after=parse_retry_after(headers.get("Retry-After")),
        location=headers.get("Location"),
    )


def _error_for(method: str, path: str, f: _Failure) -> GraphError:
    what = f"Graph {method} {path}: {f.message or 'error'}"
    kw: dict[str, Any] = {"status": f.status, "code": f.code, "request_id": f.request_id}
    code = (f.code or "").lower()
    if f.status == 410 or (f.status == 400 and code in _DELTA_CODES):
        return DeltaTokenExpired(what, location=f.location, **kw)
    if f.status == 404:
        return GraphNotFound(what, **kw)
    if f.status == 403 and code == "authorization_requestdenied":
        return GraphAccessDenied(what, **kw)
    return GraphRequestError(what, **kw)


class Transport:
    """Sends requests to one Graph base URL with a borrowed aiohttp session."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        graph_url: str,
        token: TokenSource,
        retry: RetryPolicy,
    ) -> None:
        """Raise ValueError if `graph_url` is http on a host other than 127.0.0.1/localhost."""
        check_origin(graph_url, what="graph_url")
        self._session = session
        self._base = graph_url.rstrip("/")
        self._origin = yarl.URL(self._base).origin()
        self._token = token
        self._retry = retry

    def url(self, path: str, params: Mapping[str, str] | None = None) -> yarl.URL:
        """Absolute URL for a path under the Graph base (path segments already quoted)."""
        text = self._base + path
        if params:
            text += "?" + query_string(params)
        return yarl.URL(text, encoded=True)

    def link(self, link: str) -> yarl.URL:
        """A nextLink/deltaLink, sent byte for byte; refuses links to another host (token leak).

        Raises GraphRequestError for a link outside the Graph base URL.
        """
        url = yarl.URL(link, encoded=True)
        if (
            not url.is_absolute()
            or url.origin() != self._origin
            or not (url.raw_path + "/").startswith(yarl.URL(self._base).raw_path + "/")
        ):
            raise GraphRequestError("refusing a paging link outside the Graph base URL")
        return url

    async def request(
        self,
        method: str,
        url: yarl.URL,
        *,
        headers: Mapping[str, str] | None = None,
        json_body: Any = None,
        text: bool = False,
    ) -> Any:
        """Send with retries; return parsed JSON (or the body text when `text`).

        Raises GraphUnavailable when retries are exhausted, DeltaTokenExpired, GraphNotFound,
        GraphAccessDenied, GraphRequestError, and the AuthError subtypes of the token source.
        """
        path = url.path
        policy = self._retry
        waited = 0.0
        refreshed = False
        force = False
        attempt = 0
        client_request_id = str(uuid.uuid4())
        while True:
            attempt += 1
            bearer = await self._token(force_refresh=force)
            force = False
            send_headers = {
                "Authorization": f"Bearer {bearer}",
                "Accept": "application/json",
                "client-request-id": client_request_id,
                **(headers or {}),
            }
            try:
                async with self._session.request(
                    method,
                    url,
                    headers=send_headers,
                    json=json_body,
                    allow_redirects=False,
                    raise_for_status=False,
                    timeout=aiohttp.ClientTimeout(total=policy.request_timeout),
                ) as resp:
                    body = await resp.read()
                    metrics.record_response(resp.status)
                    if 200 <= resp.status < 300:
                        return self._decode(method, path, resp, body, text)
                    failure = _parse_error(resp.status, body, resp.headers)
            except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError, TimeoutError) as exc:
                metrics.record_response(None)
                failure = _Failure(None, None, type(exc).__name__, None, None)
            except aiohttp.ClientError as exc:
                raise GraphRequestError(
                    f"Graph {method} {path}: request failed ({type(exc).__name__})"
                ) from None

            if failure.status == 401 and not refreshed:
                refreshed = force = True
                log.info("Graph %s %s -> 401; refreshing the token once", method, path)
                continue
            if failure.status is not None and failure.status not in RETRY_STATUSES:
                raise _error_for(method, path, failure)
            if failure.retry_after is not None:
                delay = failure.retry_after + random.uniform(  # noqa: S311 - jitter
                    0, min(1.0, failure.retry_after * 0.1)
                )
            else:
                delay = backoff_delay(policy, attempt)
            if (
                attempt >= policy.max_attempts
                or (failure.retry_after or 0.0) > policy.max_wait
                or waited + delay > policy.total_budget
            ):
                raise GraphUnavailable(
                    f"Graph {method} {path}: gave up after {attempt} attempts"
                    f" ({failure.message or 'no response'})",
                    status=failure.status,
                    code=failure.code,
                    request_id=failure.request_id,
                    retry_after=failure.retry_after,
                    attempts=attempt,
                )
            log.warning(
                "Graph %s %s -> %s; retry %d in %.2fs (request-id %s)",
                method,
                path,
                failure.status or failure.message,
                attempt,
                delay,
                failure.request_id or "-",
            )
            metrics.record_retry()
            await asyncio.sleep(delay)
            waited += delay

    @staticmethod
    def _decode(
        method: str, path: str, resp: aiohttp.ClientResponse, body: bytes, text: bool
    ) -> Any:
        if text:
            return body.decode(resp.charset or "utf-8", errors="replace")
        if not body:
            return None
        try:
            return json.loads(body)
        except ValueError:
            raise GraphError(
                f"Graph {method} {path}: response is not JSON",
                status=resp.status,
                request_id=resp.headers.get("request-id"),
            ) from None
