"""Properties every count must have, on many generated elections."""

from __future__ import annotations

import random
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from civic.counting import Ballot, Instance, Profile, Project, count

RULES = [
    dict(rule="greedy"),
    dict(rule="greedy", utility="cardinality"),
    dict(rule="mes"),
    dict(rule="mes", utility="cardinality"),
    dict(rule="mes", completion="add1"),
    dict(rule="mes", utility="cardinality", completion="add1-greedy"),
    dict(rule="mes", completion="greedy"),
]


@st.composite
def elections(draw):
    ids = draw(
        st.lists(
            st.sampled_from([str(i) for i in range(1, 25)]),
            min_size=1,
            max_size=7,
            unique=True,
        )
    )
    # Costs from a small set, so that exact ties happen often.
    costs = {
        pid: draw(st.sampled_from([0, 5, 10, 10, 20, 30, 45])) * 100 for pid in ids
    }
    budget = draw(st.integers(1, 100)) * 100
    ballots = tuple(
        Ballot(
            projects=tuple(
                draw(st.lists(st.sampled_from(ids), unique=True, max_size=4))
            ),
            voter_id=str(v),
        )
        for v in range(draw(st.integers(0, 12)))
    )
    instance = Instance(
        budget=budget, projects=tuple(Project(id=k, cost=c) for k, c in costs.items())
    )
    return instance, Profile(ballots=ballots)


@settings(max_examples=60, deadline=None)
@given(elections(), st.sampled_from(RULES))
def test_never_over_budget(election, rule) -> None:
    instance, profile = election
    out = count(instance, profile, **rule)
    assert out.total_cost <= instance.budget
    assert len(set(out.winners)) == len(out.winners)
    assert sum(instance.project(p).cost for p in out.winners) == out.total_cost


@settings(max_examples=60, deadline=None)
@given(elections(), st.sampled_from(RULES), st.randoms(use_true_random=False))
def test_order_of_voters_and_projects_in_the_file_does_not_matter(
    election, rule, rnd
) -> None:
    instance, profile = election
    projects = list(instance.projects)
    ballots = list(profile.ballots)
    rnd.shuffle(projects)
    rnd.shuffle(ballots)
    shuffled = (
        Instance(budget=instance.budget, projects=tuple(projects)),
        Profile(ballots=tuple(ballots)),
    )
    for chain in ("lexico", "more-votes,fewer-euros,draw"):
        a = count(instance, profile, tie_break=chain, seed="s", **rule)
        b = count(*shuffled, tie_break=chain, seed="s", **rule)
        assert a.winners == b.winners


@settings(max_examples=80, deadline=None)
@given(
    elections(),
    st.sampled_from(["cost", "cardinality"]),
    st.sampled_from(["none", "add1"]),
)
def test_mes_never_charges_a_voter_more_than_their_share(
    election, utility, completion
) -> None:
    """Replaying the published prices: each project is paid exactly, nobody
    pays more than the budget they started with."""
    instance, profile = election
    out = count(instance, profile, rule="mes", utility=utility, completion=completion)
    if not profile.ballots:
        assert out.winners == ()
        return
    share = out.per_voter_budget
    left = [Fraction(share)] * len(profile.ballots)
    for pid in out.winners:
        r = out.result(pid)
        if r.cost == 0:
            continue
        paid_total = Fraction(0)
        full = partial = 0
        for v, ballot in enumerate(profile.ballots):
            if pid in ballot.projects:
                pay = min(left[v], r.price_per_supporter)
                full += pay == r.price_per_supporter
                partial += 0 < pay < r.price_per_supporter
                left[v] -= pay
                paid_total += pay
        assert paid_total == r.cost
        assert (full, partial) == (r.full_payers, r.partial_payers)
    assert all(x >= 0 for x in left)
    assert out.total_cost <= share * len(profile.ballots)


def test_seeded_random_elections_city_chain_is_deterministic() -> None:
    from civic.counting.samples import random_election

    rng = random.Random(7)
    for seed in rng.sample(range(10_000), 20):
        instance, profile = random_election(seed, 8, 30)
        a = count(
            instance,
            profile,
            rule="mes",
            completion="add1-greedy",
            tie_break="draw",
            seed="x",
        )
        b = count(
            instance,
            profile,
            rule="mes",
            completion="add1-greedy",
            tie_break="draw",
            seed="x",
        )
        assert a == b
