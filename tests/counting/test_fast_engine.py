"""The numpy MES engines (float budgets checked exactly, and exact integers
for small elections) against the pure-Python exact one: same selection, prices, payment groups and money left, on seeded
tie-heavy random elections (small costs, repeated ballots, tiny budgets)."""

from __future__ import annotations

import random
from fractions import Fraction

import pytest

from civic.counting import Ballot, Instance, Profile, Project, engine
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
