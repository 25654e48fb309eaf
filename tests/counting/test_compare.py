"""Greedy vs MES side by side, overall and per district."""

from __future__ import annotations

from fractions import Fraction

from civic.counting import Ballot, Instance, Profile, Project, count
from civic.counting.compare import compare, comparison_json, group_column


def _election() -> tuple[Instance, Profile]:
    # North (3 voters) all want N1; South (2 voters) want S1. Greedy funds the
    # most voted N1 then nothing fits; MES gives South its fair share.
    projects = (Project("N1", 6000), Project("N2", 4000), Project("S1", 4000))
    ballots = [
        Ballot(("N1", "N2"), voter_id="1", extra=(("district", "North"),)),
        Ballot(("N1", "N2"), voter_id="2", extra=(("district", "North"),)),
        Ballot(("N1",), voter_id="3", extra=(("district", "North"),)),
        Ballot(("S1",), voter_id="4", extra=(("district", "South"),)),
        Ballot(("S1",), voter_id="5", extra=(("district", "South"),)),
    ]
    return Instance(budget=10000, projects=projects), Profile(ballots=tuple(ballots))


def test_comparison_counts_voters_with_a_funded_choice_per_district() -> None:
    instance, profile = _election()
    greedy = count(instance, profile, rule="greedy")
    mes = count(instance, profile, rule="mes")
    assert greedy.winners == ("N1", "N2")
    assert mes.winners == ("N1", "S1")
    assert group_column(profile) == "district"
    g, m = compare(profile, {"greedy": greedy, "mes": mes})
    assert (g.projects, g.total_cost, g.satisfied, g.voters) == (2, 10000, 3, 5)
    assert (m.projects, m.total_cost, m.satisfied) == (2, 10000, 5)
    assert m.share == Fraction(1)
    assert g.by_group == (("North", 3, 3), ("South", 2, 0))
    doc = comparison_json([g, m])
    assert doc["greedy"]["by_group"]["South"]["share"] == 0
    assert doc["mes"]["share"] == 1


def test_every_project_gets_a_sentence() -> None:
    instance, profile = _election()
    out = count(instance, profile, rule="mes")
    texts = {pid: e["text"] for pid, e in out.explanations().items()}
    assert texts["S1"].startswith("funded by equal shares")
    assert "2 supporters paid 20 each" in texts["S1"]
    assert texts["N2"].startswith("not funded: its supporters had too little")
