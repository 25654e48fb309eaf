"""Seeded random elections: for tests, benchmarks and demonstrations."""

from __future__ import annotations

import random

from civic.counting.model import Ballot, Instance, Profile, Project


def random_election(
    seed: int,
    projects: int = 8,
    voters: int = 40,
    ties: bool = True,
) -> tuple[Instance, Profile]:
    """A small approval election with the awkward cases real ones have:
    equal costs and vote counts, free projects, projects nobody approves,
    empty ballots, a project costing exactly what is left."""
    rng = random.Random(seed)  # noqa: S311 - reproducible test elections, not secrets
    ids = rng.sample(range(1, 40), projects)
    costs = []
    for _ in ids:
        r = rng.random()
        if r < 0.05:
            costs.append(0)
        elif ties and r < 0.35:
            costs.append(rng.choice([10, 20, 30]) * 100)
        else:
            costs.append(rng.randint(1, 60) * 100)
    budget = max(100, int(sum(costs) * rng.uniform(0.2, 0.7)) // 100 * 100)
    popularity = [rng.random() ** 2 for _ in ids]
    if projects > 2:
        popularity[rng.randrange(projects)] = 0.0  # nobody approves this one
    ballots = []
    for v in range(voters):
        if rng.random() < 0.05:
            chosen: list[str] = []
        else:
            chosen = [str(i) for i, w in zip(ids, popularity) if rng.random() < w]
        rng.shuffle(chosen)
        ballots.append(Ballot(projects=tuple(chosen), voter_id=str(v + 1)))
    instance = Instance(
        budget=budget,
        projects=tuple(Project(id=str(i), cost=c) for i, c in zip(ids, costs)),
        meta=(("description", f"random election {seed}"), ("rule", "greedy")),
    )
    return instance, Profile(ballots=tuple(ballots))
