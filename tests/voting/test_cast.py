"""Casting and replacing ballots through the service layer: formats, eligibility, secrecy."""

from __future__ import annotations

import pytest
from sqlalchemy import func, inspect, select

from civic.budgeting.states import Phase
from civic.extensions import db
from civic.voting import services as vote
from civic.voting.ballots import ballot_lookup, parse_choices
from civic.voting.models import Ballot, VoteParticipation
from tests.budgeting.factories import set_phase
from tests.conftest import make_user
from tests.voting.factories import make_vote


def _count(model) -> int:
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


def test_cast_records_participation_and_an_anonymous_ballot(ctx):
    s = make_vote()
    choice = {s.city_options[0].id: 1, s.city_options[2].id: 1}
    receipt = vote.cast_ballot(s.voter, s.city, choice)
    db.session.commit()
    ballot = db.session.get(Ballot, ballot_lookup(receipt))
    assert parse_choices(ballot.choices) == choice and ballot.source == "online"
    assert vote.participation_of(s.voter, s.city).channel == "online"


def test_the_ballot_table_holds_no_voter_identifier_and_no_time(ctx):
    columns = {c["name"]: c for c in inspect(db.engine).get_columns("ballot")}
    assert set(columns) == {"lookup", "envelope_id", "choices", "source"}
    fks = inspect(db.engine).get_foreign_keys("ballot")
    assert [fk["referred_table"] for fk in fks] == ["envelope"]


def test_second_cast_is_refused_and_writes_nothing(ctx):
    s = make_vote()
    vote.cast_ballot(s.voter, s.city, {s.city_options[0].id: 1})
    db.session.commit()
    with pytest.raises(vote.AlreadyVoted):
        vote.cast_ballot(s.voter, s.city, {s.city_options[1].id: 1})
    db.session.commit()
    assert _count(Ballot) == 1 and _count(VoteParticipation) == 1


def test_change_needs_the_receipt_and_replaces_the_ballot(ctx):
    s = make_vote()
    first = vote.cast_ballot(s.voter, s.city, {s.city_options[0].id: 1})
    db.session.commit()
    with pytest.raises(vote.VoteError):
        vote.change_ballot(s.voter, s.city, "0000-0000-0000-0000-0000-0000-00",
                           {s.city_options[1].id: 1})
    with pytest.raises(vote.VoteError):
        vote.change_ballot(s.voter, s.city, "nonsense", {s.city_options[1].id: 1})
    second = vote.change_ballot(s.voter, s.city, first.lower(), {s.city_options[1].id: 1})
    db.session.commit()
    assert second != first and _count(Ballot) == 1
    assert db.session.get(Ballot, ballot_lookup(first)) is None
    assert db.session.get(Ballot, ballot_lookup(second)).choices == str(s.city_options[1].id)
    with pytest.raises(vote.VoteError):  # the old receipt no longer works
        vote.change_ballot(s.voter, s.city, first, {s.city_options[0].id: 1})


def test_another_voter_cannot_use_someone_elses_receipt(ctx):
    s = make_vote()
    receipt = vote.cast_ballot(s.voter, s.city, {s.city_options[0].id: 1})
    other = make_user("autre@example.org")
    vote.cast_ballot(other, s.city, {s.city_options[1].id: 1})
    db.session.commit()
    with pytest.raises(vote.VoteError):
        vote.change_ballot(other, s.city, receipt, {s.city_options[2].id: 1})
    assert db.session.get(Ballot, ballot_lookup(receipt)) is not None


def test_approval_limits_and_forged_choices(ctx):
    s = make_vote(max_choices=2)
    ids = [p.id for p in s.city_options]
    with pytest.raises(vote.VoteError):
        vote.cast_ballot(s.voter, s.city, dict.fromkeys(ids, 1))  # 3 > 2
    with pytest.raises(vote.VoteError):  # a project of the quartier on the city ballot
        vote.cast_ballot(s.voter, s.city, {s.quartier_options[0].id: 1})
    with pytest.raises(vote.VoteError):
        vote.cast_ballot(s.voter, s.city, {ids[0]: 3})  # points on an approval ballot
    with pytest.raises(vote.VoteError):
        vote.cast_ballot(s.voter, s.city, {})
    assert _count(Ballot) == 0 and _count(VoteParticipation) == 0


def test_knapsack_ballot_must_fit_the_envelope(ctx):
    s = make_vote(ballot_format="knapsack", max_choices=None,
                  city_costs=(30_000_00, 12_000_00, 9_000_00))
    ids = [p.id for p in s.city_options]
    assert s.city.amount_cents < 51_000_00
    with pytest.raises(vote.VoteError, match="plus que l'enveloppe"):
        vote.cast_ballot(s.voter, s.city, dict.fromkeys(ids, 1))
    vote.cast_ballot(s.voter, s.city, {ids[0]: 1})


def test_cumulative_points_and_minimum_projects(ctx):
    s = make_vote(ballot_format="cumulative", max_choices=None, points_total=10,
                  min_projects=2)
    a, b, c = (p.id for p in s.city_options)
    with pytest.raises(vote.VoteError):
        vote.cast_ballot(s.voter, s.city, {a: 6, b: 5})  # 11 > 10
    with pytest.raises(vote.VoteError):
        vote.cast_ballot(s.voter, s.city, {a: 10})  # one project < 2
    receipt = vote.cast_ballot(s.voter, s.city, {a: 6, c: 4})
    db.session.commit()
    assert parse_choices(db.session.get(Ballot, ballot_lookup(receipt)).choices) == {a: 6, c: 4}


def test_eligibility_reasons(ctx):
    s = make_vote(min_age=16)
    young = make_user("jeune@example.org", birth_year=2020)
    assert "16" in vote.vote_eligibility(young, s.campaign, s.city)
    from civic.territory.models import Quartier

    elsewhere = db.session.execute(select(Quartier).where(
        Quartier.id != s.voter.quartier_id)).scalars().first()
    neighbour = make_user("voisin@example.org", quartier=elsewhere)
    assert vote.vote_eligibility(neighbour, s.campaign, s.quartier) is not None
    assert vote.vote_eligibility(neighbour, s.campaign, s.city) is None
    set_phase(s.campaign, Phase.RESULTS)
    assert "clos" in vote.vote_eligibility(s.voter, s.campaign, s.city)
    with pytest.raises(vote.VoteError):
        vote.cast_ballot(s.voter, s.city, {s.city_options[0].id: 1})


def test_ballot_options_are_the_envelopes_votable_proposals(ctx):
    from civic.budgeting import services as budget

    s = make_vote()
    votable = budget.votable_proposals(s.campaign)
    for envelope in s.campaign.envelopes:
        assert vote.ballot_options(s.campaign, envelope) == votable[envelope]
    assert vote.ballot_options(s.campaign, s.city) == s.city_options
