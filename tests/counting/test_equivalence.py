"""Same winners as pabutools 1.2.3: stored outcomes, the shared reference, live runs."""

from __future__ import annotations

import json
import os
import runpy
import time
from pathlib import Path

import pytest

from civic.counting import api, count, engine, read_pabulib
from civic.counting.samples import random_election
from civic.counting.tiebreak import tie_ranks

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
SHARED = Path(os.environ.get("CIVIC_SHARED_DIR", REPO_ROOT.parent / "shared"))
# The variant table is bench code (pabutools is bench/test-only): run the file.
_BENCH = runpy.run_path(str(REPO_ROOT / "bench" / "pabutools_variants.py"))
CIVIC_VARIANTS: dict[str, dict] = _BENCH["CIVIC"]
run_pabutools = _BENCH["run_pabutools"]
EXPECTED = json.loads((HERE / "expected_pabutools.json").read_text())["cases"]


def reference() -> dict:
    """pabutools' outcomes on the shared samples, or {} without ../shared."""
    path = SHARED / "pb-samples" / "reference.json"
    return json.loads(path.read_text()) if path.is_file() else {}


@pytest.mark.parametrize("case", EXPECTED, ids=lambda c: f"seed{c['seed']}")
def test_stored_pabutools_outcomes_on_generated_elections(case) -> None:
    """Computed once by bench/make_expected.py: needs no pabutools, no ../shared."""
    instance, profile = random_election(case["seed"], case["projects"], case["voters"])
    for variant, winners in case["winners"].items():
        out = count(instance, profile, **CIVIC_VARIANTS[variant])
        assert sorted(out.winners) == winners, variant


def _ranks(e):
    return tie_ranks(e.ids, e.costs, e.score, ("lexico",))


@pytest.mark.parametrize("seed", range(40))
def test_add1_jumps_visit_the_same_outcome_as_single_steps(seed) -> None:
    """The certified jumps of mes_add1_fast end where pabutools' +1 loop ends,
    with the same starting budget (so the same prices are explained)."""
    pytest.importorskip("numpy")  # the fast engine is the one under test
    instance, profile = random_election(seed + 1000, 8 + seed % 5, 20 + 3 * seed)
    e = engine.compile_election(instance, profile)
    for utility in ("cost", "cardinality"):
        slow, _ = engine.mes_add1_naive(e, _ranks(e), utility, 100)
        fast, stats = engine.mes_add1_fast(
            engine.ApprovalIndex(e, utility), _ranks(e), 100
        )
        assert fast.selected == slow.selected
        assert fast.start == slow.start


def test_add1_jumps_on_small_sample_files(samples) -> None:
    pytest.importorskip("numpy")  # the fast engine is the one under test
    for name in (
        "Netherlands_Assen_2024.pb",
        "France_Toulouse_2022_6_-_Saint-Cyprien.pb",
    ):
        e = engine.compile_election(*read_pabulib(samples / name))
        for utility in ("cost", "cardinality"):
            slow, steps = engine.mes_add1_naive(e, _ranks(e), utility, 100)
            fast, stats = engine.mes_add1_fast(
                engine.ApprovalIndex(e, utility), _ranks(e), 100
            )
            assert (fast.selected, fast.start) == (slow.selected, slow.start)
            # The point of the jumps: far fewer MES runs than increments.
            assert stats["runs"] + stats["certificates"] < steps / 3


@pytest.mark.parametrize("seed", range(15))
def test_without_numpy_the_pure_python_engine_agrees(seed, monkeypatch) -> None:
    pytest.importorskip("numpy")  # the fast engine is the one under test
    instance, profile = random_election(seed + 2000, 9, 30)
    fast = {v: count(instance, profile, **kw) for v, kw in CIVIC_VARIANTS.items()}
    monkeypatch.setattr(engine, "numpy_available", lambda: False)
    engine._CACHE.clear()
    api._ADD1_CACHE.clear()
    for variant, kw in CIVIC_VARIANTS.items():
        assert count(instance, profile, **kw) == fast[variant], variant


# --------------------------------------------------------- ../shared/pb-samples

REFERENCE = reference()
# MES+add1 on the three largest files takes 10-50 s each here: opt in with
# CIVIC_SLOW_TESTS=1 (the other variants of those files always run).
SLOW = {"Poland_Warszawa_2026.pb", "Poland_Warszawa_2023_Mokotow.pb"}
CASES = [
    pytest.param(
        name,
        variant,
        marks=[pytest.mark.slow] if name in SLOW and "add1" in variant else [],
        id=f"{name[:-3]}-{variant}",
    )
    for name, variants in sorted(REFERENCE.items())
    if not name.startswith("_")
    for variant in sorted(variants)
] or [pytest.param(None, None, id="no-shared")]


@pytest.mark.parametrize(("name", "variant"), CASES)
def test_reference_json(name, variant, samples) -> None:
    """pabutools' winners on every shared sample file, for every variant it has."""
    if name in SLOW and "add1" in variant and not os.environ.get("CIVIC_SLOW_TESTS"):
        pytest.skip("slow: set CIVIC_SLOW_TESTS=1")
    instance, profile = _read(samples / name)
    out = count(instance, profile, **CIVIC_VARIANTS[variant])
    assert sorted(out.winners) == REFERENCE[name][variant]


_READ: dict = {}


def _read(path):
    if path not in _READ:
        _READ[path] = read_pabulib(path)
    return _READ[path]


OFFICIAL = {
    # file: (count options, do we reproduce the official `selected` column?)
    "Netherlands_Assen_2024.pb": (dict(rule="mes", completion="add1"), True),
    "Poland_Swiecie_2023.pb": (dict(rule="mes", completion="add1"), True),
    "Poland_Lodz_2022.pb": (dict(rule="greedy", threshold=100), True),
    "Poland_Warszawa_2026.pb": (dict(rule="greedy", threshold=3000), True),
    "Poland_Warszawa_2023_Mokotow.pb": (dict(rule="greedy"), True),
    # META rule equalshares/add1-comparison: pabutools' add1 differs on 3
    # projects; the equalshares.net tool's variant gives the official result.
    "Poland_Wieliczka_2023_Green_Budget.pb": (dict(rule="equalshares"), True),
}
NOT_OFFICIAL = {
    "Poland_Wieliczka_2023_Green_Budget.pb": dict(rule="mes", completion="add1"),
}


def _official(instance) -> list[str]:
    return sorted(p.id for p in instance.projects if p.get("selected") == "1")


@pytest.mark.parametrize("name", sorted(OFFICIAL))
def test_official_selection_is_reproduced(name, samples) -> None:
    options, reproduced = OFFICIAL[name]
    instance, profile = _read(samples / name)
    out = count(instance, profile, **options)
    assert (sorted(out.winners) == _official(instance)) == reproduced


def test_pabutools_add1_is_not_wieliczkas_rule(samples) -> None:
    for name, options in NOT_OFFICIAL.items():
        instance, profile = _read(samples / name)
        out = count(instance, profile, **options)
        assert len(set(out.winners) ^ set(_official(instance))) == 3


def test_equalshares_comparison_can_hand_the_result_to_greedy(samples) -> None:
    instance, profile = _read(samples / "Netherlands_Assen_2024.pb")
    kept = count(instance, profile, rule="equalshares", comparison="satisfaction")
    assert sorted(kept.winners) == _official(instance)
    # By exclusion, 5 voters prefer greedy and none MES: greedy replaces MES.
    replaced = count(instance, profile, rule="equalshares", comparison="exclusion")
    greedy = count(instance, profile, rule="greedy", tie_break="more-votes,id")
    assert set(replaced.winners) == set(greedy.winners)
    assert all(r.reason == "funded_comparison" for r in replaced.projects if r.funded)
    assert (
        "5 voters prefer the greedy outcome, 0 prefer equal shares"
        in (replaced.notes[0])
    )


# ------------------------------------------------------------- live pabutools


@pytest.mark.parametrize("seed", range(12))
def test_live_pabutools_on_seeded_elections(seed, tmp_path) -> None:
    pytest.importorskip("pabutools")
    from civic.counting import write_pabulib

    instance, profile = random_election(seed + 5000, 6 + seed % 6, 15 + 5 * seed)
    path = tmp_path / "e.pb"
    write_pabulib(instance, profile, path)
    for variant, kw in CIVIC_VARIANTS.items():
        assert sorted(count(instance, profile, **kw).winners) == run_pabutools(
            str(path), variant
        ), variant


def test_live_pabutools_on_a_small_sample_file(samples) -> None:
    pytest.importorskip("pabutools")
    path = samples / "France_Toulouse_2022_6_-_Saint-Cyprien.pb"
    instance, profile = _read(path)
    start = time.perf_counter()
    for variant in ("greedy", "mes-cost", "mes-card-greedy"):
        assert sorted(count(instance, profile, **CIVIC_VARIANTS[variant]).winners) == (
            run_pabutools(str(path), variant)
        )
    assert time.perf_counter() - start >= 0  # no timing assertions, by design


@pytest.mark.parametrize("seed", range(8))
def test_equalshares_variant_without_numpy_agrees(seed, monkeypatch) -> None:
    pytest.importorskip("numpy")  # the fast engine is the one under test
    instance, profile = random_election(seed + 3000, 8, 25)
    options = [
        dict(rule="equalshares", comparison=c, completion=k)
        for c in ("satisfaction", "exclusion")
        for k in ("add1", "add1-greedy")
    ]
    fast = [count(instance, profile, **kw) for kw in options]
    monkeypatch.setattr(engine, "numpy_available", lambda: False)
    engine._CACHE.clear()
    assert [count(instance, profile, **kw) for kw in options] == fast
