"""The demo campaign: several quartiers, a few dozen proposals in every part-1 state, once."""

from __future__ import annotations

from sqlalchemy import func, select

from civic.budgeting.models import Campaign, Proposal
from civic.budgeting.states import Phase
from civic.extensions import db
from tests.conftest import login, post_form


def test_seed_demo_fills_a_realistic_campaign_once(runner, app):
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    again = runner.invoke(args=["seed-demo"])
    assert "campaigns +0" in again.output
    with app.app_context():
        assert db.session.scalar(select(func.count(Campaign.id))) == 1
        statuses = dict(db.session.execute(
            select(Proposal.status, func.count(Proposal.id)).group_by(Proposal.status)).all())
        assert {"draft", "submitted", "under_review", "needs_info", "feasible", "unfeasible",
                "withdrawn", "merged", "hidden"} <= set(statuses)
        assert sum(statuses.values()) >= 24
        campaign = db.session.execute(select(Campaign)).scalar_one()
        assert len([e for e in campaign.envelopes if e.quartier_id]) >= 5
        assert campaign.phase() is Phase.SUBMISSION


def test_coordinator_closes_the_phase_early_from_the_page(runner, app, client):
    runner.invoke(args=["seed-demo"])
    login(client, "coordination@demo.civic.example", "demo-civic-2026")
    resp = post_form(client, "/budget-participatif/campagnes/1/cloturer-la-phase", {},
                     token_page="/budget-participatif/campagnes/1")
    assert resp.status_code == 302
    html = client.get(resp.location).get_data(as_text=True)
    assert "Étude de faisabilité" in html and "phase en cours" in html
