"""The count from the database: the declared rule, determinism, the close, publication."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select, update

from civic.accounts.models import AuditEntry
from civic.budgeting import services as budget
from civic.budgeting.states import Phase, ProposalStatus
from civic.counting import Ballot as CBallot
from civic.counting import Profile, count, make_instance
from civic.extensions import db
from civic.voting import count as counting
from civic.voting import services as vote
from civic.voting.ballots import chain
from civic.voting.models import Ballot, CountRun
from tests.budgeting.factories import set_phase
from tests.conftest import make_user
from tests.voting.count_helpers import CITY_BALLOTS, closed_vote


def _actions(prefix: str) -> list[str]:
    return list(db.session.execute(select(AuditEntry.action).where(
        AuditEntry.action.like(prefix + "%")).order_by(AuditEntry.id)).scalars())


def _all_three(s) -> str:
    """Choices that no ballot of CITY_BALLOTS has: an alteration always changes the input."""
    return ",".join(str(p.id) for p in s.city_options)


def test_same_input_gives_byte_identical_output_and_a_new_run_each_time(ctx):
    s, _ = closed_vote()
    coord = make_user("coord2@example.org", roles=("coordinator",))
    first = counting.count_envelope(s.campaign, s.city, coord)
    second = counting.count_envelope(s.campaign, s.city, coord)
    db.session.commit()
    assert first.id != second.id
    assert first.output_json == second.output_json
    assert first.output_digest == second.output_digest and first.input_digest == second.input_digest
    assert first.output_json == counting.canonical(json.loads(first.output_json))  # sorted keys
    assert _actions("vote.counted") == ["vote.counted", "vote.counted"]
    assert first.ballots_count == len(CITY_BALLOTS) and first.published_at is None


def test_a_changed_ballot_changes_the_input_digest(ctx):
    s, _ = closed_vote()
    before = counting.count_envelope(s.campaign, s.city, None)
    lookup = db.session.scalars(select(Ballot.lookup).limit(1)).first()
    db.session.execute(update(Ballot).where(Ballot.lookup == lookup)
                       .values(choices=_all_three(s)))
    after = counting.count_envelope(s.campaign, s.city, None)
    assert before.input_digest != after.input_digest


def test_greedy_count_is_the_engines_on_the_same_ballots(ctx):
    s, _ = closed_vote()
    run = counting.count_envelope(s.campaign, s.city, None)
    doc = json.loads(run.output_json)
    opts = s.city_options
    instance = make_instance(s.city.amount_cents,
                             {str(p.id): p.validated_cost_cents for p in opts})
    profile = Profile(tuple(CBallot(tuple(str(opts[k].id) for k in picks))
                            for picks in CITY_BALLOTS))
    expected = count(instance, profile, rule="greedy", tie_break=counting.TIE_BREAK)
    assert doc["winners"] == list(expected.winners)
    mes = count(instance, profile, rule="mes", completion="add1-greedy",
                tie_break=counting.TIE_BREAK)
    assert doc["other"]["winners"] == list(mes.winners)
    # 9,000 € and 30,000 € both have 4 votes: the tie goes to the cheaper one; then
    # 12,000 € (3 votes) does not fit in the 1,000 € left.
    assert doc["winners"] == [str(opts[2].id), str(opts[0].id)]
    assert doc["projects"][str(opts[1].id)]["reason"] == "did_not_fit"
    assert doc["projects"][str(opts[1].id)]["money_left_cents"] == 1_000_00


def test_mes_campaign_uses_add1_and_greedy_completion(ctx):
    s, _ = closed_vote(counting_rule="mes")
    run = counting.count_envelope(s.campaign, s.city, None)
    doc = json.loads(run.output_json)
    assert run.rule == "mes" and run.completion == "add1-greedy"
    assert doc["engine"]["rule"] == "mes-cost-add1-greedy"
    assert doc["other"]["rule"] == "greedy"
    assert set(doc["comparison"]) == {"mes-cost-add1-greedy", "greedy"}


def test_cumulative_ballots_are_counted_as_points(ctx):
    s, _ = closed_vote(ballots=[], ballot_format="cumulative", points_total=10,
                       min_projects=1, close=False)
    a, b, c = s.city_options
    for i, choice in enumerate(({a.id: 9, b.id: 1}, {b.id: 5, c.id: 5}, {c.id: 10})):
        vote.cast_ballot(make_user(f"p{i}@example.org"), s.city, choice)
    db.session.commit()
    set_phase(s.campaign, Phase.RESULTS)
    doc = json.loads(counting.count_envelope(s.campaign, s.city, None).output_json)
    assert doc["vote_type"] == "cumulative"
    assert doc["projects"][str(c.id)]["score"] == 15 and doc["projects"][str(c.id)]["votes"] == 2
    assert doc["winners"][0] == str(c.id)


def test_no_count_before_the_close(ctx):
    s, _ = closed_vote(close=False)
    with pytest.raises(counting.CountError):
        counting.count_envelope(s.campaign, s.city, None)


def test_the_tick_counts_once_at_the_close_and_publishes_nothing(ctx):
    s, _ = closed_vote()
    done = budget.tick()
    db.session.commit()
    assert sum("counted" in line for line in done) == len(s.campaign.envelopes)
    assert budget.tick() == []
    runs = db.session.scalars(select(CountRun)).all()
    assert len(runs) == len(s.campaign.envelopes)
    assert all(r.published_at is None for r in runs)


def test_publication_marks_winners_chains_the_ballots_and_is_audited(ctx):
    s, _ = closed_vote()
    coord = make_user("coord2@example.org", roles=("coordinator",))
    counting.count_campaign(s.campaign, coord)
    counting.publish_results(s.campaign, coord)
    db.session.commit()
    run = counting.published_run(s.city)
    entries = db.session.execute(select(Ballot.lookup, Ballot.choices).where(
        Ballot.envelope_id == s.city.id).order_by(Ballot.lookup)).all()
    assert run.chain_head == chain([tuple(e) for e in entries])[-1]
    winners = set(json.loads(run.output_json)["winners"])
    for p in s.city_options:
        db.session.refresh(p)
        expected = ProposalStatus.WINNER if str(p.id) in winners else ProposalStatus.NOT_WINNER
        assert p.state is expected
    assert _actions("vote.results_published") == ["vote.results_published"] * len(
        s.campaign.envelopes)
    with pytest.raises(counting.CountError):
        counting.publish_results(s.campaign, coord)


def test_publication_refused_when_ballots_changed_since_the_count(ctx):
    s, _ = closed_vote()
    counting.count_campaign(s.campaign, None)
    lookup = db.session.scalars(select(Ballot.lookup).limit(1)).first()
    db.session.execute(update(Ballot).where(Ballot.lookup == lookup)
                       .values(choices=_all_three(s)))
    with pytest.raises(counting.CountError):
        counting.publish_results(s.campaign, make_user("c3@example.org", roles=("coordinator",)))


def test_a_malformed_stored_ballot_stops_the_count_with_a_clear_error(ctx):
    s, _ = closed_vote()
    lookup = db.session.scalars(select(Ballot.lookup).limit(1)).first()
    db.session.execute(update(Ballot).where(Ballot.lookup == lookup).values(choices="x,,"))
    with pytest.raises(counting.CountError, match="malformed|mal formé"):
        counting.count_envelope(s.campaign, s.city, None)


def test_the_declared_rule_is_on_the_campaign_page(client, app):
    with app.app_context():
        s, _ = closed_vote(close=False, counting_rule="mes")
        cid = s.campaign.id
    html = client.get(f"/budget-participatif/campagnes/{cid}").get_data(as_text=True)
    assert "add1" in html and f"/budget-participatif/campagnes/{cid}/resultats" in html


def test_publication_starts_the_realisation_of_each_winner(ctx):
    from civic.voting.models import Realisation

    s, _ = closed_vote()
    coord = make_user("coord2@example.org", roles=("coordinator",))
    counting.count_campaign(s.campaign, coord)
    counting.publish_results(s.campaign, coord)
    db.session.commit()
    winners = [int(w) for e in s.campaign.envelopes
               for w in json.loads(counting.published_run(e).output_json)["winners"]]
    started = db.session.execute(select(Realisation.proposal_id)).scalars().all()
    assert winners and sorted(started) == sorted(winners)
