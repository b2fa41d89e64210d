"""Injected failures: scripted responses per path prefix, seeded random throttling, slow pages, drops."""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Fault:
    """One injected response. `drop` closes the connection halfway through the body instead."""

    status: int = 503
    retry_after: float | None = None
    body: dict[str, Any] | None = None  # None: Graph's (or Entra's) usual body for the status
    delay: float = 0.0
    drop: bool = False

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Fault:
        ra = data.get("retry_after")
        return cls(
            status=int(data.get("status", 503)),
            retry_after=None if ra is None else float(ra),
            body=data.get("body"),
            delay=float(data.get("delay", 0.0)),
            drop=bool(data.get("drop", False)),
        )


@dataclass
class FaultPlan:
    """Settable from tests (`state.faults`) and from `/_sim/faults`.

    Scripted faults are consumed in order by requests whose path starts with the prefix; random
    faults apply to Graph paths (`random_prefix`) with a seeded RNG so a run can be replayed.
    """

    scripted: list[tuple[str, deque[Fault]]] = field(default_factory=list)
    throttle_ratio: float = 0.0
    error_ratio: float = 0.0
    drop_ratio: float = 0.0
    random_retry_after: tuple[float, float] = (0.05, 0.5)
    random_prefix: str = "/v1.0/"
    page_delay: float = 0.0
    rng: random.Random = field(default_factory=lambda: random.Random(0))

    def script(self, prefix: str, faults: list[Fault]) -> None:
        """Queue `faults` for the next requests whose path starts with `prefix`."""
        self.scripted.append((prefix, deque(faults)))

    def set_random(
        self,
        *,
        throttle_ratio: float = 0.0,
        error_ratio: float = 0.0,
        drop_ratio: float = 0.0,
        retry_after: tuple[float, float] = (0.05, 0.5),
        seed: int = 0,
        prefix: str = "/v1.0/",
    ) -> None:
        self.throttle_ratio = throttle_ratio
        self.error_ratio = error_ratio
        self.drop_ratio = drop_ratio
        self.random_retry_after = retry_after
        self.random_prefix = prefix
        self.rng = random.Random(seed)

    def clear(self) -> None:
        self.scripted.clear()
        self.set_random()
        self.page_delay = 0.0

    def take(self, path: str) -> Fault | None:
        """The fault to answer this request with, if any (consumes a scripted one)."""
        for prefix, queue in self.scripted:
            if queue and path.startswith(prefix):
                return queue.popleft()
        if not path.startswith(self.random_prefix) or path.endswith("/$batch"):
            return None
        if not (self.throttle_ratio or self.error_ratio or self.drop_ratio):
            return None
        roll = self.rng.random()
        if roll < self.throttle_ratio:
            low, high = self.random_retry_after
            return Fault(status=429, retry_after=round(self.rng.uniform(low, high), 3))
        roll -= self.throttle_ratio
        if roll < self.error_ratio:
            return Fault(status=self.rng.choice((503, 504)))
        roll -= self.error_ratio
        if roll < self.drop_ratio:
            return Fault(status=200, drop=True)
        return None
