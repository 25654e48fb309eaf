"""Open data for the participatory budget: campaigns with envelopes and phases, proposals'
public fields only, and conformance to the OpenAPI document."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings

from civic import create_app
from civic.budgeting import services as budget
from civic.budgeting.states import Phase
from civic.extensions import db
from civic.review import services as review
from civic.territory import services as territory
from tests.budgeting.factories import make_campaign, make_proposal
from tests.conftest import make_config, make_user


@pytest.fixture
def published(app):
    with app.app_context():
        resident = make_user("ines@example.org")
        coord = make_user("coord@example.org", roles=("coordinator",))
        svc = territory.save_service(None, None, name="Voirie", slug="voirie", email=None)
        agent = make_user("agent@example.org", roles=(("agent", svc.id),))
        campaign = make_campaign(Phase.SUBMISSION)
        proposal = make_proposal(resident, campaign)
        make_proposal(resident, campaign, submit=False, title="Brouillon secret")
        review.assign_services(coord, proposal, [svc.id])
        review.record_feasibility(agent, review.reviews_of(proposal)[0], review.VerdictData(
            "feasible", "Réalisable.", 9_000_00, 4, "note interne confidentielle"))
        review.publish_answers(coord, campaign, [proposal.id])
        make_campaign(Phase.UPCOMING, title="Pas encore publique")
        db.session.commit()
        return campaign.id


def test_campaigns_list_envelopes_and_phases(client, published):
    items = client.get("/api/v1/campaigns").get_json()["items"]
    assert [c["title"] for c in items] == ["Budget participatif 2027"]
    c = items[0]
    assert c["current_phase"] == "submission" and len(c["phases"]) == 6
    assert sum(e["amount_cents"] for e in c["envelopes"]) == c["total_cents"]
    assert any(e["quartier"] is None for e in c["envelopes"])


def test_proposals_expose_public_fields_only(client, published):
    data = client.get(f"/api/v1/campaigns/{published}/proposals").get_json()
    assert data["total"] == 1
    p = data["items"][0]
    assert p["status"] == "feasible" and p["validated_cost_cents"] == 9_000_00
    body = str(data)
    assert "confidentielle" not in body and "Brouillon secret" not in body
    assert "email" not in body
    assert client.get(f"/api/v1/campaigns/{published}/proposals?status=nope").status_code == 400
    assert client.get("/api/v1/campaigns/999999/proposals").status_code == 404


def test_upcoming_campaign_is_not_published(client, published):
    with client.application.app_context():
        hidden = db.session.execute(db.select(budget.Campaign).where(
            budget.Campaign.title == "Pas encore publique")).scalar_one().id
    assert client.get(f"/api/v1/campaigns/{hidden}").status_code == 404


schemathesis = pytest.importorskip("schemathesis")
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", create_app(make_config()))


@pytest.mark.fuzz
@schema.include(path_regex="^/campaigns").parametrize()
@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_budget_api_conforms_to_its_openapi_document(case, published):
    case.call_and_validate()


def test_huge_offset_is_a_400_not_an_overflow(client, published):
    resp = client.get(f"/api/v1/campaigns/{published}/proposals?offset=17284599514941655040")
    assert resp.status_code == 400 and resp.is_json
    assert client.get("/api/v1/quartiers?offset=99999999999999999999").status_code == 400
