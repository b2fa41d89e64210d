"""Process-wide counters of Graph traffic, read by the metrics endpoint; no exporter lives here."""

from __future__ import annotations

from collections import Counter
from threading import Lock

_lock = Lock()
_requests: Counter[str] = Counter()  # by outcome: 2xx, 4xx, 5xx, 429, network
_retries = 0


def record_response(status: int | None) -> None:
    """Count one Graph response (None: no response at all, a network error or timeout)."""
    if status is None:
        outcome = "network"
    elif status == 429:
        outcome = "429"
    else:
        outcome = f"{status // 100}xx"
    with _lock:
        _requests[outcome] += 1


def record_retry() -> None:
    global _retries
    with _lock:
        _retries += 1


def snapshot() -> tuple[dict[str, int], int]:
    """(requests by outcome, retries) since the process started."""
    with _lock:
        return dict(_requests), _retries
