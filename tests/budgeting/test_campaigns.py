"""Campaigns: envelopes add up, calendar in order, frozen fairness settings, phase work."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import select

from civic.accounts.models import AuditEntry
from civic.budgeting import services as budget
from civic.budgeting.states import Phase, ProposalStatus
from civic.extensions import db
from civic.review import services as review
from civic.territory.models import CityService
from tests.budgeting.factories import make_campaign, make_proposal, set_phase, starts_for
from tests.conftest import login, make_user, post_form


def _data(campaign, **changes):
    envelopes = {e.quartier_id: e.amount_cents for e in campaign.envelopes}
    data = budget.CampaignData(
        title=campaign.title, description=campaign.description,
        total_cents=campaign.total_cents, city_cents=envelopes.pop(None),
        quartier_cents=envelopes,
        starts={p: s for p, s in zip(budget.DATED_PHASES, campaign.phase_starts, strict=True)},
        min_age=campaign.min_age, require_verified=campaign.require_verified,
        require_residence=campaign.require_residence, ballot_format=campaign.ballot_format,
        max_choices=campaign.max_choices, points_total=campaign.points_total,
        min_projects=campaign.min_projects, counting_rule=campaign.counting_rule,
        themes=tuple(t.name for t in campaign.themes))
    return replace(data, **changes)


def test_envelopes_must_add_up_to_the_total(ctx):
    make_user("coord@example.org", roles=("coordinator",))
    with pytest.raises(budget.BudgetError) as exc:
        make_campaign(total_cents=100_000_01)
    assert exc.value.field == "total"
    campaign = make_campaign()
    assert sum(e.amount_cents for e in campaign.envelopes) == campaign.total_cents
    assert campaign.envelope_for(None) is not None


def test_phases_must_be_in_order(ctx):
    make_user()
    starts = starts_for(Phase.SUBMISSION)
    starts[Phase.VOTE] = starts[Phase.REVIEW]
    with pytest.raises(budget.BudgetError) as exc:
        make_campaign(starts=starts)
    assert exc.value.field == "vote_starts"


def test_fairness_settings_are_frozen_once_the_vote_opens(ctx):
    coord = make_user("coord@example.org", roles=("coordinator",))
    campaign = make_campaign(Phase.VOTE)
    for change in ({"counting_rule": "mes"}, {"ballot_format": "knapsack"}, {"min_age": 16},
                   {"city_cents": campaign.envelope_for(None).amount_cents - 100,
                    "total_cents": campaign.total_cents - 100}):
        with pytest.raises(budget.BudgetError) as exc:
            budget.save_campaign(coord, campaign, _data(campaign, **change))
        assert "vote" in exc.value.message.lower()
        db.session.rollback()
    # The title may still change.
    budget.save_campaign(coord, campaign, _data(campaign, title="BP 2027 (vote en cours)"))
    db.session.commit()
    assert campaign.title == "BP 2027 (vote en cours)"


def test_before_the_vote_settings_can_change(ctx):
    coord = make_user("coord@example.org", roles=("coordinator",))
    campaign = make_campaign(Phase.REVIEW)
    budget.save_campaign(coord, campaign, _data(campaign, counting_rule="mes"))
    assert campaign.counting_rule == "mes"


def test_close_phase_early_is_logged_and_opens_the_next(ctx):
    coord = make_user("coord@example.org", roles=("coordinator",))
    campaign = make_campaign(Phase.SUBMISSION)
    assert budget.close_phase_early(coord, campaign) is Phase.REVIEW
    db.session.commit()
    assert campaign.phase() is Phase.REVIEW
    entry = db.session.execute(select(AuditEntry).where(
        AuditEntry.action == "budget.phase_closed_early")).scalar_one()
    assert entry.actor_id == coord.id and "submission closed" in entry.detail


def test_opening_the_vote_selects_feasible_costed_proposals_once(ctx, runner):
    resident = make_user("ines@example.org")
    coord = make_user("coord@example.org", roles=("coordinator",))
    from civic.territory import services as territory

    svc = territory.save_service(None, None, name="Voirie", slug="voirie", email=None)
    agent = make_user("agent@example.org", roles=(("agent", svc.id),))
    campaign = make_campaign(Phase.SUBMISSION)
    good = make_proposal(resident, campaign)
    other = make_proposal(resident, campaign, title="Un autre projet")
    for p in (good, other):
        review.assign_services(coord, p, [svc.id])
    r1, r2 = (review.reviews_of(p)[0] for p in (good, other))
    review.record_feasibility(agent, r1, review.VerdictData("feasible", "OK", 9_000_00, 6))
    review.record_feasibility(agent, r2, review.VerdictData("unfeasible",
                                                            "Terrain privé, hors compétence.",
                                                            None, None))
    review.publish_answers(coord, campaign, [good.id, other.id])
    db.session.commit()
    set_phase(campaign, Phase.VOTE)
    result = runner.invoke(args=["budget", "tick"])
    assert result.exit_code == 0 and "vote opened" in result.output, result.output
    db.session.expire_all()
    assert good.state is ProposalStatus.SELECTED and other.state is ProposalStatus.UNFEASIBLE
    again = runner.invoke(args=["budget", "tick"])
    assert "nothing to do" in again.output
    assert len([e for e in good.events if e.to_status == "selected"]) == 1
    votable = budget.votable_proposals(campaign)
    assert votable[campaign.envelope_for(resident.quartier_id)] == [good]
    assert db.session.get(CityService, svc.id)


def test_campaign_form_reports_a_wrong_sum(app, client):
    with app.app_context():
        make_user("coord@example.org", roles=("coordinator",))
    login(client, "coord@example.org")
    form = {"title": "BP", "total": "1000", "city_envelope": "500", "ballot_format": "approval",
            "max_choices": "3", "counting_rule": "greedy", "information_starts": "2030-01-01",
            "submission_starts": "2030-02-01", "review_starts": "2030-03-01",
            "vote_starts": "2030-04-01", "results_starts": "2030-05-01",
            "realisation_starts": "2030-06-01", "require_residence": "y"}
    resp = post_form(client, "/budget-participatif/campagnes/nouvelle", form)
    assert resp.status_code == 422
    assert "doivent correspondre exactement" in resp.get_data(as_text=True)
    with app.app_context():
        assert db.session.execute(select(budget.Campaign)).first() is None
    form["city_envelope"] = "1000"
    resp = post_form(client, "/budget-participatif/campagnes/nouvelle", form)
    assert resp.status_code == 302
    page = client.get(resp.location).get_data(as_text=True)
    assert "À venir" in page or "Calendrier" in page


def test_public_campaign_page_shows_calendar_and_what_to_do(app, client):
    with app.app_context():
        make_user()
        campaign = make_campaign(Phase.SUBMISSION)
        cid = campaign.id
    html = client.get(f"/budget-participatif/campagnes/{cid}").get_data(as_text=True)
    assert "Dépôt des propositions" in html and "Proposez un projet" in html
    assert client.get("/budget-participatif").status_code == 302
    with app.app_context():
        make_campaign(Phase.UPCOMING, title="Secret 2030")
    assert "Secret 2030" not in client.get("/budget-participatif/campagnes").get_data(as_text=True)


def test_changing_the_rule_after_the_vote_opened_is_refused_on_the_page(app, client):
    with app.app_context():
        make_user("coord@example.org", roles=("coordinator",))
        cid = make_campaign(Phase.VOTE).id
    login(client, "coord@example.org")
    url = f"/budget-participatif/campagnes/{cid}/modifier"
    page = client.get(url).get_data(as_text=True)
    assert "sont figés" in page
    import re

    from tests.conftest import csrf_from

    # Resubmit the form as shown, with only the counting rule changed.
    fields = dict(re.findall(r'name="([^"]+)"[^>]*value="([^"]*)"', page))
    fields.update({k: v for k, v in re.findall(
        r'<select[^>]*name="([^"]+)"[^>]*>.*?<option[^>]*selected[^>]*value="([^"]*)"', page,
        flags=re.S)})
    fields["counting_rule"] = "mes"
    fields["csrf_token"] = csrf_from(page)
    for flag in ("require_verified",):
        fields.pop(flag, None)
    resp = client.post(url, data=fields)
    assert resp.status_code == 422
    assert "ne peuvent plus être modifiés" in resp.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(budget.Campaign, cid).counting_rule == "greedy"


def test_dates_cannot_start_a_phase_behind_the_log(ctx):
    coord = make_user("coord@example.org", roles=("coordinator",))
    campaign = make_campaign(Phase.SUBMISSION)
    starts = dict(zip(budget.DATED_PHASES, campaign.phase_starts, strict=True))
    past = starts[Phase.SUBMISSION]
    with pytest.raises(budget.BudgetError) as exc:
        budget.save_campaign(coord, campaign, _data(campaign, starts={
            **starts, Phase.REVIEW: past + (starts[Phase.REVIEW] - past) / 1000}))
    assert exc.value.field == "review_starts"
    db.session.rollback()
    with pytest.raises(budget.BudgetError) as exc:
        budget.save_campaign(coord, campaign, _data(campaign, starts={
            **starts, Phase.SUBMISSION: past - (starts[Phase.REVIEW] - past)}))
    assert exc.value.field == "submission_starts"  # already begun: kept
