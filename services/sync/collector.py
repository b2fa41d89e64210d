"""The cyclic garbage collector's thresholds while runs execute: fewer, cheaper collections.

A run allocates millions of short-lived containers (parsed Graph users, decisions, rows) while
it holds hundreds of thousands of long-lived ones (the scope index, the users it created). With
CPython's default generation-0 threshold of 700, a 100,000-user import triggered ~3,500 young
and ~30 full collections, each full one walking every object of the process: about a quarter of
the import's time (measured: bench/RESULTS.md, "Import"). Runs hold no reference cycles of their
own worth collecting early, so while at least one run executes in this process the young
generation is allowed to grow to RUN_THRESHOLD objects; the process's own thresholds come back
when the last run ends. Memory only grows by the cyclic garbage of one larger young generation.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

# Young-generation allocations between collections while a run executes (CPython's default: 700).
RUN_THRESHOLD = 20_000

_active = 0
_saved: tuple[int, int, int] | None = None


@contextmanager
def relaxed_collection() -> Iterator[None]:
    """Raise the young generation's threshold for the block's duration (nested and concurrent
    blocks share one setting; the first one in saves the process's, the last one out restores
    it, unless something else changed them meanwhile)."""
    global _active, _saved
    if _active == 0:
        current = gc.get_threshold()
        if current[0] and current[0] < RUN_THRESHOLD:
            _saved = current
            gc.set_threshold(RUN_THRESHOLD, current[1], current[2])
    _active += 1
    try:
        yield
    finally:
        _active -= 1
        if _active == 0 and _saved is not None:
            if gc.get_threshold()[0] == RUN_THRESHOLD:
                gc.set_threshold(*_saved)
            _saved = None
