"""One delivery attempt over HTTP, and what its answer means (delivered, retry, or give up)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import aiohttp

from services.webhooks.policy import WebhookPolicy
from services.webhooks.signing import sign
from services.webhooks.urls import AddressRefused, ResolveFailed, pin

EXCERPT_BYTES = 500  # of a receiver's response body, the most ever read
ERROR_CHARS = 300
USER_AGENT = "entrasync-webhooks/1"
# Answers worth trying again: the receiver is busy, down or slow, not refusing this request.
RETRYABLE_STATUS = frozenset({408, 429})


@dataclass(frozen=True, slots=True)
class Outcome:
    delivered: bool
    retry: bool  # worth another attempt (when attempts remain)
    status_code: int | None
    error: str
    retry_after: float | None = None


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    base = now if now is not None else datetime.now(UTC).timestamp()
    return max(0.0, when.timestamp() - base)


def _short(text: str) -> str:
    return " ".join(text.split())[:ERROR_CHARS]


def classify(status: int, excerpt: str, retry_after: float | None) -> Outcome:
    """2xx delivered; 408, 429 and 5xx retried; anything else (redirects, other 4xx) final."""
    if 200 <= status < 300:
        return Outcome(delivered=True, retry=False, status_code=status, error="")
    detail = f"HTTP {status}"
    if 300 <= status < 400:
        detail += ": redirects are not followed; register the final URL"
    elif excerpt.strip():
        detail += f": {_short(excerpt)}"
    retry = status >= 500 or status in RETRYABLE_STATUS
    return Outcome(
        delivered=False,
        retry=retry,
        status_code=status,
        error=detail,
        retry_after=retry_after if retry else None,
    )


def signed_headers(
    *, secret: str, event: str, delivery_id: str, body: bytes, timestamp: int | None = None
) -> dict[str, str]:
    ts = int(time.time()) if timestamp is None else timestamp
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Entrasync-Event": event,
        "X-Entrasync-Delivery": delivery_id,
        "X-Entrasync-Timestamp": str(ts),
        "X-Entrasync-Signature": sign(secret, ts, body),
    }


async def send(
    http: aiohttp.ClientSession,
    url: str,
    *,
    secret: str,
    event: str,
    delivery_id: str,
    body: bytes,
    policy: WebhookPolicy,
) -> Outcome:
    """POST one signed delivery; never raises for anything the network or receiver does."""
    try:
        target = await pin(url, policy)
    except AddressRefused as exc:
        return Outcome(delivered=False, retry=False, status_code=None, error=_short(str(exc)))
    except ResolveFailed as exc:
        return Outcome(delivered=False, retry=True, status_code=None, error=_short(str(exc)))
    headers = signed_headers(secret=secret, event=event, delivery_id=delivery_id, body=body)
    headers["Host"] = target.host_header
    try:
        async with http.post(
            target.url,
            data=body,
            headers=headers,
            allow_redirects=False,
            timeout=aiohttp.ClientTimeout(total=policy.timeout),
            server_hostname=target.server_hostname,
        ) as resp:
            raw = await resp.content.read(EXCERPT_BYTES)
            status = resp.status
            retry_after = parse_retry_after(resp.headers.get("Retry-After"))
    except TimeoutError:
        return Outcome(
            delivered=False,
            retry=True,
            status_code=None,
            error=f"no answer within {policy.timeout:g} s",
        )
    except aiohttp.ClientError as exc:
        reason = str(exc) or type(exc).__name__
        return Outcome(
            delivered=False, retry=True, status_code=None, error=_short(f"network error: {reason}")
        )
    return classify(status, raw.decode("utf-8", "replace"), retry_after)
