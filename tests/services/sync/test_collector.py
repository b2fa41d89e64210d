"""The garbage collector's thresholds while runs execute (services/sync/collector.py)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from services.sync.collector import RUN_THRESHOLD, relaxed_collection


@pytest.fixture
def thresholds() -> Iterator[tuple[int, int, int]]:
    saved = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield gc.get_threshold()
    gc.set_threshold(*saved)


def test_runs_relax_the_young_generation_and_the_last_one_out_restores_it(
    thresholds: tuple[int, int, int],
) -> None:
    with relaxed_collection():
        assert gc.get_threshold() == (RUN_THRESHOLD, 10, 10)
        with relaxed_collection():  # a second run in the same process
            assert gc.get_threshold() == (RUN_THRESHOLD, 10, 10)
        assert gc.get_threshold() == (RUN_THRESHOLD, 10, 10)
    assert gc.get_threshold() == thresholds


def test_a_process_that_chose_its_own_thresholds_keeps_them(
    thresholds: tuple[int, int, int],
) -> None:
    gc.set_threshold(50_000, 20, 20)
    with relaxed_collection():
        assert gc.get_threshold() == (50_000, 20, 20)
    assert gc.get_threshold() == (50_000, 20, 20)

    gc.set_threshold(700, 10, 10)
    with relaxed_collection():
        gc.set_threshold(1000, 10, 10)  # changed while a run executes: left as it was set
    assert gc.get_threshold() == (1000, 10, 10)


def test_a_failing_run_restores_the_thresholds(thresholds: tuple[int, int, int]) -> None:
    with pytest.raises(RuntimeError), relaxed_collection():
        raise RuntimeError("the run failed")
    assert gc.get_threshold() == thresholds
