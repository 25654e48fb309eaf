"""count()'s caches of one election's work (merged ballots, add1 searches,
detailed MES runs) change no outcome: a variant counted after others equals
the same variant counted alone, and a repeated run is not recomputed."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest

from civic.counting import api, count, engine
from civic.counting.samples import random_election

REPO_ROOT = Path(__file__).resolve().parents[2]
VARIANTS: dict[str, dict] = runpy.run_path(
    str(REPO_ROOT / "bench" / "pabutools_variants.py")
)["CIVIC"]


def _clear() -> None:
    engine._CACHE.clear()
    engine._INDEX_CACHE.clear()
    api._ADD1_CACHE.clear()
    api._DETAILED_CACHE.clear()


@pytest.mark.parametrize("seed", range(8))
def test_variants_counted_together_equal_variants_counted_alone(seed: int) -> None:
    instance, profile = random_election(seed + 5000, 9, 30)
    alone = {}
    for variant, kw in VARIANTS.items():
        _clear()
        alone[variant] = count(instance, profile, **kw)
    _clear()
    for variant, kw in reversed(VARIANTS.items()):
        assert count(instance, profile, **kw) == alone[variant], variant


def test_the_greedy_completion_reuses_the_detailed_run(monkeypatch) -> None:
    instance, profile = random_election(5100, 9, 30)
    _clear()
    calls = []
    real = engine.mes_once

    def counting(*args, **kwargs):
        calls.append(kwargs.get("details", False))
        return real(*args, **kwargs)

    monkeypatch.setattr(engine, "mes_once", counting)
    count(instance, profile, rule="mes")
    count(instance, profile, rule="mes", completion="greedy")
    count(instance, profile, rule="mes", completion="add1")
    count(instance, profile, rule="mes", completion="add1-greedy")
    assert calls.count(True) == 2  # at budget / n, and at add1's last start
