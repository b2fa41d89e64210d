"""When each simulated Graph request *arrived*, next to the simulator's own request log.

`state.requests` records the time a response was decided: for an injected fault that is the
arrival, but for a request served normally it is after the page was built and `page_delay`
slept, later than the request reached the server. Proving that a retry came no earlier than a
429's Retry-After needs the retry's arrival, so the test swaps in a fault plan that notes the
arrival (the middleware calls `faults.take` as soon as a request comes in) and a request log
that pairs each record with it. Both run in the middleware's task, in that order, for every
logged request (and for every `$batch` item).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from contextvars import ContextVar
from dataclasses import dataclass

from simulator.faults import Fault, FaultPlan
from simulator.server import Simulator
from simulator.state import RequestRecord

_arrived: ContextVar[float] = ContextVar("sim_request_arrived")


class ArrivalNotingFaultPlan(FaultPlan):
    """A FaultPlan whose `take` (the first thing the simulator does with a request) notes the time."""

    def take(self, path: str) -> Fault | None:
        _arrived.set(time.monotonic())
        return super().take(path)


class ArrivalLog(list[RequestRecord]):
    """`state.requests` with `arrivals[i]`: when the request of record i arrived."""

    def __init__(self, records: Iterable[RequestRecord] = ()) -> None:
        super().__init__()
        self.arrivals: list[float] = []
        for record in records:
            self.append(record)

    def append(self, record: RequestRecord) -> None:
        self.arrivals.append(_arrived.get(record.time))
        super().append(record)


def note_arrivals(sim: Simulator) -> ArrivalLog:
    """Install the arrival-noting plan and log on a running simulator (faults cleared)."""
    sim.state.faults = ArrivalNotingFaultPlan()
    log = ArrivalLog(sim.state.requests)
    sim.state.requests = log
    return log


@dataclass(frozen=True, slots=True)
class Retry:
    """A faulted request and the next request for the same path and query (its retry)."""

    fault: RequestRecord
    retry: RequestRecord | None
    waited: float | None  # the retry's arrival minus the moment the fault was answered


def retries(log: ArrivalLog, start: int, end: int | None = None) -> list[Retry]:
    """Every faulted top-level request in log[start:end] (status >= 429 or dropped), each with
    the next request to the same path and query, if any."""
    stop = len(log) if end is None else end
    found: list[Retry] = []
    for i in range(start, stop):
        record = log[i]
        if record.batch_item is not None or not (record.status >= 429 or record.dropped):
            continue
        j = next(
            (
                k
                for k in range(i + 1, stop)
                if log[k].batch_item is None
                and (log[k].path, log[k].query) == (record.path, record.query)
            ),
            None,
        )
        if j is None:
            found.append(Retry(record, None, None))
        else:
            found.append(Retry(record, log[j], log.arrivals[j] - record.time))
    return found
