"""The numpy MES engines (float budgets checked exactly, and exact integers
for small elections) against the pure-Python exact one: same selection, prices, payment groups and money left, on seeded
tie-heavy random elections (small costs, repeated ballots, tiny budgets)."""

from __future__ import annotations

import random
from fractions import Fraction

import pytest

from civic.counting import Ballot, Instance, Profile, Project, engine, read_pabulib
from civic.counting.tiebreak import LEXICO, tie_ranks

pytest.importorskip("numpy")


def _random_election(rng: random.Random) -> engine.Election:
    m = rng.randint(1, 9)
    costs = {
        str(i): rng.choice([0, 1, 2, 3, 4, 5, 6, 10, 12]) * rng.choice([1, 100, 700])
        for i in range(m)
    }
    density = rng.choice([0.2, 0.5, 0.8])
    ballots = [
        tuple(x for x in costs if rng.random() < density)
        for _ in range(rng.randint(1, 40))
    ]
    budget = rng.choice([1, 5, 10, 17, 30, 100, 1000]) * rng.choice([1, 100, 700])
    instance = Instance(
        budget=budget, projects=tuple(Project(k, v) for k, v in costs.items())
    )
    profile = Profile(ballots=tuple(Ballot(b) for b in ballots))
    return engine.compile_election(instance, profile)


def _summary(run: engine.MESRun) -> tuple:
    left = {p: Fraction(v) for p, v in run.left_with_supporters.items()}
    return run.selected, run.rho, run.payments, left


@pytest.mark.parametrize("seed", range(6))
def test_fast_mes_matches_exact_python(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(40):
        e = _random_election(rng)
        ranks = tie_ranks(e.ids, e.costs, e.score, (LEXICO,), None)
        for utility in ("cost", "cardinality"):
            a = engine.ApprovalIndex(e, utility)
            for k in (0, 1, 3, 10):
                start = e.budget + k * 100 * e.n
                slow = engine.mes_approval(e, ranks, utility, start, details=True)
                for run in (engine.mes_fast, engine.mes_fast_small):
                    fast = run(a, ranks, start, details=True)
                    assert fast is not None
                    assert _summary(fast[0]) == _summary(slow)


@pytest.mark.parametrize("small_classes", [0, engine.SMALL_CLASSES])
@pytest.mark.parametrize("seed", range(4))
def test_add1_jumps_match_single_steps_on_tie_heavy_elections(
    seed: int, small_classes: int, monkeypatch
) -> None:
    """The margin certificates of mes_add1_fast, with either numpy engine, end
    where the +1 loop ends (same selection, same starting budget)."""
    monkeypatch.setattr(engine, "SMALL_CLASSES", small_classes)
    rng = random.Random(100 + seed)
    for _ in range(40):
        e = _random_election(rng)
        ranks = tie_ranks(e.ids, e.costs, e.score, (LEXICO,), None)
        for utility in ("cost", "cardinality"):
            for increment in (1, 100):
                slow, _ = engine.mes_add1_naive(e, ranks, utility, increment)
                fast, _ = engine.mes_add1_fast(
                    engine.ApprovalIndex(e, utility), ranks, increment
                )
                assert (fast.selected, fast.start) == (slow.selected, slow.start)


@pytest.mark.parametrize("small_classes", [0, engine.SMALL_CLASSES])
def test_a_certificate_holds_at_every_start_in_between(small_classes, monkeypatch):
    """Whenever certifies() accepts runs at s and t, every start from s to t
    funds the same sequence."""
    monkeypatch.setattr(engine, "SMALL_CLASSES", small_classes)
    rng = random.Random(7)
    accepted = 0
    for _ in range(120):
        e = _random_election(rng)
        ranks = tie_ranks(e.ids, e.costs, e.score, (LEXICO,), None)
        for utility in ("cost", "cardinality"):
            a = engine.ApprovalIndex(e, utility)
            step = rng.choice([1, 100, e.budget // 8 + 1]) * e.n
            seqs = [_sequence(a, ranks, e.budget + k * step) for k in range(13)]
            for s in range(0, 12, 3):
                for t in range(s + 1, 13):
                    if _certified(a, ranks, e.budget + s * step, e.budget + t * step):
                        accepted += 1
                        assert all(seqs[u] == seqs[s] for u in range(s, t + 1))
    assert accepted > 100


def _sequence(a: engine.ApprovalIndex, ranks: list[int], start: int) -> list[int]:
    result = engine.mes_run(a, ranks, start)
    assert result is not None
    return result[0].selected


def _certified(a: engine.ApprovalIndex, ranks: list[int], s: int, t: int) -> bool:
    rs, won = engine.mes_run(a, ranks, s)  # type: ignore[misc]
    rt, _ = engine.mes_run(  # type: ignore[misc]
        a, ranks, t, ref=(rs.selected[len(a.free) :], won)
    )
    return engine.certifies(rs, won, rt)


@pytest.mark.parametrize("small_classes", [0, engine.SMALL_CLASSES])
def test_same_sequence_at_both_ends_is_not_a_certificate(
    small_classes, monkeypatch, samples
) -> None:
    """Wieliczka 2023, cardinality utility: MES funds the same sequence at 34
    and 41-50 units per voter above budget / n, another one in between; the
    margins must refuse those jumps."""
    monkeypatch.setattr(engine, "SMALL_CLASSES", small_classes)
    e = engine.compile_election(
        *read_pabulib(samples / "Poland_Wieliczka_2023_Green_Budget.pb")
    )
    ranks = tie_ranks(e.ids, e.costs, e.score, (LEXICO,), None)
    a = engine.ApprovalIndex(e, "cardinality")
    start = [e.budget + k * 100 * e.n for k in range(51)]
    seqs = [_sequence(a, ranks, s) for s in start]
    assert seqs[34] == seqs[45] and seqs[34] != seqs[40]
    for t in range(41, 51):
        assert not _certified(a, ranks, start[34], start[t])


@pytest.mark.parametrize("seed", range(4))
def test_summaries_shared_between_runs_change_nothing(seed: int) -> None:
    """mes_fast runs sharing one ApprovalIndex (whose history lends supporter
    summaries, in a previous run's order, from run to run) give exactly what
    a run on a fresh index gives, whatever order the starts come in."""
    rng = random.Random(300 + seed)
    reused = 0
    for _ in range(40):
        e = _random_election(rng)
        ranks = tie_ranks(e.ids, e.costs, e.score, (LEXICO,), None)
        for utility in ("cost", "cardinality"):
            shared = engine.ApprovalIndex(e, utility)
            ks = [rng.randint(0, 12) for _ in range(10)]
            for k in ks:
                start = e.budget + k * rng.choice([1, 100]) * e.n
                alone = engine.ApprovalIndex(e, utility)
                fresh = engine.mes_fast(alone, ranks, start, True)
                before = _count_states(shared.history)
                again = engine.mes_fast(shared, ranks, start, True)
                seen = _count_states(shared.history) == before
                if seen and len(again[0].selected) > 1:
                    reused += 1  # went only through states seen before
                assert _summary(again[0]) == _summary(fresh[0])
                assert again[1] == fresh[1]
    assert reused > 50


def _count_states(node: engine._History) -> int:
    return 1 + sum(_count_states(c) for c in node.children.values())


@pytest.mark.parametrize("small_classes", [0, engine.SMALL_CLASSES])
@pytest.mark.parametrize("seed", range(4))
def test_a_run_guided_by_a_richer_run_is_the_same_run(
    seed: int, small_classes: int, monkeypatch
) -> None:
    """mes_fast's `guide`: a run that takes the richer run's winners on the
    word of its margins (pricing only that winner) selects, prices and keys
    exactly what an unguided run selects, with margins that still certify
    only true stretches; guides from sharpened (`ref`) runs included."""
    monkeypatch.setattr(engine, "SMALL_CLASSES", small_classes)
    rng = random.Random(500 + seed)
    guided = 0
    for _ in range(40):
        e = _random_election(rng)
        ranks = tie_ranks(e.ids, e.costs, e.score, (LEXICO,), None)
        for utility in ("cost", "cardinality"):
            a = engine.ApprovalIndex(e, utility)
            nf = len(a.free)
            step = rng.choice([1, 100, e.budget // 8 + 1]) * e.n
            starts = [e.budget + k * step for k in range(8)]
            plain = [engine.mes_run(a, ranks, s) for s in starts]
            for s in range(7):
                rs, won = plain[s]  # type: ignore[misc]
                for t in range(s + 1, 8):
                    ref = (rs.selected[nf:], won)
                    for rt, _ in (plain[t], engine.mes_run(a, ranks, starts[t], ref=ref)):  # type: ignore[misc]
                        before = a.guided
                        got = engine.mes_run(
                            a, ranks, starts[s], guide=(rt.selected[nf:], rt.margins)
                        )
                        assert got is not None
                        guided += a.guided > before
                        assert got[0].selected == rs.selected
                        assert got[1] == won
                        # Its margins are lower bounds too: a certificate from
                        # them holds at every start in between.
                        for u in range(s):
                            if engine.certifies(*plain[u], got[0]):
                                assert all(
                                    plain[v][0].selected == plain[u][0].selected  # type: ignore[index]
                                    for v in range(u, s + 1)
                                )
    assert guided > 200


@pytest.mark.parametrize("small_classes", [0, engine.SMALL_CLASSES])
@pytest.mark.parametrize("seed", range(3))
def test_add1_with_and_without_guides_ends_at_the_same_run(
    seed: int, small_classes: int, monkeypatch
) -> None:
    """mes_add1_fast with guided runs and PROBE look-ahead ends where the +1
    loop ends, as without guides."""
    monkeypatch.setattr(engine, "SMALL_CLASSES", small_classes)
    rng = random.Random(700 + seed)
    for _ in range(40):
        e = _random_election(rng)
        ranks = tie_ranks(e.ids, e.costs, e.score, (LEXICO,), None)
        for utility in ("cost", "cardinality"):
            for increment in (1, 100):
                slow, _ = engine.mes_add1_naive(e, ranks, utility, increment)
                for guided in (False, True):
                    fast, _ = engine.mes_add1_fast(
                        engine.ApprovalIndex(e, utility),
                        ranks,
                        increment,
                        guided=guided,
                    )
                    assert (fast.selected, fast.start) == (slow.selected, slow.start)
