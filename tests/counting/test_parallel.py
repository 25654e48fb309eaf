"""count_many(): the opt-in two-process count gives exactly count()'s outcomes,
falls back to counting here when it cannot fork or the child fails, and
leaves no child process behind."""

from __future__ import annotations

import os
import runpy
from pathlib import Path

import pytest

from civic.counting import CountingError, api, count, engine, parallel, read_pabulib
from civic.counting.samples import random_election

REPO_ROOT = Path(__file__).resolve().parents[2]
VARIANTS: dict[str, dict] = runpy.run_path(
    str(REPO_ROOT / "bench" / "pabutools_variants.py")
)["CIVIC"]

needs_fork = pytest.mark.skipif(
    not hasattr(os, "fork") or parallel.usable_cores() < 2,
    reason="needs os.fork and two usable cores",
)


@pytest.fixture
def forked(monkeypatch) -> list[int]:
    """The pids count_many forks in this test (other children of the test process, such
    as a browser or a server started by another test, are none of its business)."""
    pids: list[int] = []
    real_fork = os.fork

    def fork() -> int:
        pid = real_fork()
        if pid:
            pids.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", fork)
    return pids


def _all_reaped(pids: list[int]) -> bool:
    """Every forked child has been waited for: the system no longer knows it as ours."""
    for pid in pids:
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            continue
        return False
    return True


def _clear_caches() -> None:
    engine._CACHE.clear()
    engine._INDEX_CACHE.clear()
    api._ADD1_CACHE.clear()
    api._DETAILED_CACHE.clear()


@needs_fork
@pytest.mark.parametrize("seed", range(6))
def test_two_processes_give_exactly_the_serial_outcomes(seed: int, forked) -> None:
    instance, profile = random_election(seed + 4000, 9, 35)
    serial = {v: count(instance, profile, **kw) for v, kw in VARIANTS.items()}
    _clear_caches()
    both = parallel.count_many(instance, profile, VARIANTS, processes=2)
    assert list(both) == list(VARIANTS)
    assert both == serial
    assert forked and _all_reaped(forked)


@needs_fork
def test_two_processes_on_a_sample_file(samples, forked) -> None:
    instance, profile = read_pabulib(samples / "Poland_Swiecie_2023.pb")
    serial = parallel.count_many(instance, profile, VARIANTS, processes=1)
    _clear_caches()
    assert parallel.count_many(instance, profile, VARIANTS, processes=2) == serial
    assert forked and _all_reaped(forked)


def test_split_sends_only_cardinality_variants_and_only_if_both_sides_work() -> None:
    mine, theirs = parallel.split(VARIANTS)
    assert theirs and all(VARIANTS[v].get("utility") == "cardinality" for v in theirs)
    assert sorted(mine + theirs) == sorted(VARIANTS)
    only_cost = {v: kw for v, kw in VARIANTS.items() if v not in theirs}
    assert parallel.split(only_cost) == (list(only_cost), [])


def test_without_fork_it_counts_serially(monkeypatch) -> None:
    instance, profile = random_election(4100, 8, 30)
    serial = {v: count(instance, profile, **kw) for v, kw in VARIANTS.items()}

    def no_fork() -> int:
        raise OSError("no more processes")

    monkeypatch.setattr(os, "fork", no_fork)
    monkeypatch.setattr(parallel, "usable_cores", lambda: 2)
    assert parallel.count_many(instance, profile, VARIANTS, processes=2) == serial
    monkeypatch.setattr(parallel, "usable_cores", lambda: 1)
    assert parallel.count_many(instance, profile, VARIANTS, processes=2) == serial


@needs_fork
def test_an_error_in_either_process_is_count_s_error_and_no_zombie(forked) -> None:
    instance, profile = random_election(4200, 8, 30)
    bad_child = dict(VARIANTS)
    bad_child["broken-card"] = dict(rule="mes", utility="cardinality", completion="x")
    with pytest.raises(CountingError, match="unknown completion"):
        parallel.count_many(instance, profile, bad_child, processes=2)
    assert forked and _all_reaped(forked)
    bad_here = dict(VARIANTS)
    bad_here["broken-cost"] = dict(rule="mes", completion="x")
    with pytest.raises(CountingError, match="unknown completion"):
        parallel.count_many(instance, profile, bad_here, processes=2)
    assert forked and _all_reaped(forked)
