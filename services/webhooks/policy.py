"""How webhooks are delivered: attempts, backoff, timeouts, and which addresses may be reached."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True, slots=True)
class WebhookPolicy:
    """One per process (see `configure`); the defaults are the production ones.

    Six attempts with delays of about 1, 2, 4, 8 and 16 minutes: a receiver may be away for half
    an hour without losing an event. Tests shorten the delays.
    """

    max_attempts: int = 6
    base_delay: float = 60.0  # seconds before the second attempt; doubles for each later one
    max_delay: float = 30 * 60.0
    jitter: float = 0.25  # each delay is scaled by a random factor in [1 - jitter, 1 + jitter]
    retry_after_cap: float = 30 * 60.0  # a receiver's Retry-After is honoured up to this
    timeout: float = 10.0  # one attempt, connect to last byte
    # How long a dispatcher owns a claimed delivery; after it, another may try (a crash mid-send).
    claim_seconds: float = 60.0
    batch: int = 50  # deliveries claimed per pass
    concurrency: int = 10  # attempts in flight per dispatcher
    retention: timedelta = timedelta(days=30)  # finished deliveries are pruned after this
    # SSRF: loopback receivers (http allowed) and private networks (RFC 1918, ULA, CGNAT).
    # Link-local (cloud metadata), multicast, reserved and unspecified addresses are never reached.
    allow_loopback: bool = True
    allow_private_networks: bool = False

    def backoff(self, attempts: int, retry_after: float | None = None) -> float:
        """Seconds to wait after the `attempts`-th failed attempt (1-based)."""
        delay = min(self.max_delay, self.base_delay * 2.0 ** max(0, attempts - 1))
        if self.jitter:
            delay *= random.uniform(1 - self.jitter, 1 + self.jitter)  # noqa: S311 (not crypto)
        if retry_after is not None:
            delay = max(delay, min(retry_after, self.retry_after_cap))
        return delay
