"""R6: how often a run proves it is alive, and when its silence means that its process died."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True, slots=True)
class Liveness:
    """A run's heartbeat period and the silences after which it is presumed dead.

    `stale_after` must leave room for missed beats (a database hiccup, a busy event loop): a live
    run taken for dead is failed while it goes on writing, so it is at least twice the period.
    `queue_timeout` applies to runs still QUEUED: they may wait behind others for a worker.
    """

    heartbeat_every: float = 10.0
    stale_after: float = 60.0
    queue_timeout: float = 3600.0

    def __post_init__(self) -> None:
        if self.heartbeat_every <= 0 or self.stale_after < 2 * self.heartbeat_every:
            raise ValueError("stale_after must be at least twice a positive heartbeat_every")
        if self.queue_timeout <= 0:
            raise ValueError("queue_timeout must be positive")

    @property
    def stale_delta(self) -> timedelta:
        return timedelta(seconds=self.stale_after)

    @property
    def queue_delta(self) -> timedelta:
        return timedelta(seconds=self.queue_timeout)


def default_worker_name() -> str:
    """host:pid, what an operator needs to find the process (and its logs) that ran a run."""
    return f"{socket.gethostname()}:{os.getpid()}"
