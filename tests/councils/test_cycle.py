"""The yearly programming cycle: calls with the seed's criteria, applications within the
co-financing ceiling, councils' avis, decisions with reasons, yearly evaluation decisions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from civic.actionplan import services as actionplan
from civic.actionplan.states import ActionStatus
from civic.councils import cycle
from civic.councils import services as councils
from civic.councils.models import ApplicationAvis, CallApplication, EvaluationDecision
from civic.extensions import db
from tests.conftest import (
    login,
    make_council,
    make_plan,
    make_territory,
    make_user,
    plan_action,
    post_form,
)


@pytest.fixture
def setup(app):
    with app.app_context():
        q = make_territory()
        council = make_council(q)
        other = make_council(name="Autre conseil")
        coordinator = make_user("coord@example.org", roles=("coordinator",))
        make_user("membre@example.org", roles=(("council_member", council.id),))
        make_user("autre@example.org", roles=(("council_member", other.id),))
        make_user("asso@example.org")
        plan = make_plan()
        call = cycle.open_call(coordinator, plan, year=2031, title="Appel 2031",
                               criteria="Besoin mal satisfait\nCoopération",
                               max_cofinancing_percent=80,
                               closes_on=councils.today() + timedelta(days=20))
        db.session.commit()
        return {"plan": plan.id, "call": call.id, "council": council.id, "quartier": q.id,
                "action": plan_action(plan, "1.1.1").id, "other_action":
                plan_action(plan, "1.1.2").id}


def _applications() -> int:
    return db.session.scalar(select(func.count()).select_from(CallApplication))


def test_new_call_is_prefilled_with_the_seed_criteria(app, client):
    with app.app_context():
        from civic.actionplan.models import Plan
        from civic.actionplan.services import import_seed_plans

        import_seed_plans()
        db.session.commit()
        make_user("coord@example.org", roles=("coordinator",))
        hainaut = db.session.execute(select(Plan).where(
            Plan.slug.contains("hainaut"))).scalar_one()
    login(client, "coord@example.org")
    page = client.get(f"/programmation/plans/{hainaut.id}/nouvel-appel").get_data(as_text=True)
    assert "Expérimentation et prise de risque" in page and 'value="80"' in page


def test_application_over_the_cofinancing_ceiling_is_refused(app, client, setup):
    login(client, "asso@example.org")
    url = f"/programmation/appels/{setup['call']}/candidater"
    data = {"porteur": "Asso", "title": "Garde", "description": "Texte",
            "quartier_id": str(setup["quartier"]), "budget": "10 000", "requested": "8 500"}
    resp = post_form(client, url, data)
    assert resp.status_code == 422 and "80" in resp.get_data(as_text=True)
    assert post_form(client, url, {**data, "requested": "abc"}).status_code == 422
    with app.app_context():
        assert _applications() == 0
    assert post_form(client, url, {**data, "requested": "8 000"}).status_code == 302
    with app.app_context():
        application = db.session.execute(select(CallApplication)).scalar_one()
        assert (application.budget_cents, application.requested_cents) == (1_000_000, 800_000)


def test_councils_avis_then_decision_with_reasons(app, client, setup):
    with app.app_context():
        asso = db.session.execute(select(__import__(
            "civic.accounts.models", fromlist=["User"]).User).where(
            __import__("civic.accounts.models", fromlist=["User"]).User.email
            == "asso@example.org")).scalar_one()
        application = cycle.apply_to_call(
            asso, councils.get_row(cycle.ProjectCall, setup["call"]), porteur="Asso",
            title="Garde", description="Texte", quartier_id=setup["quartier"],
            budget_cents=100_000, requested_cents=50_000)
        db.session.commit()
        aid = application.id
    outsider = app.test_client()
    login(outsider, "autre@example.org")
    url = f"/programmation/conseils/{setup['council']}/candidatures/{aid}/avis"
    assert post_form(outsider, url, {"opinion": "favourable", "text": "x"},
                     token_page="/").status_code == 403
    login(client, "membre@example.org")
    assert post_form(client, url, {"opinion": "favourable",
                                   "text": "Utile au quartier"}).status_code == 302
    coord = app.test_client()
    login(coord, "coord@example.org")
    decide = f"/programmation/candidatures/{aid}/decision"
    assert post_form(coord, decide, {"decision": "selected", "reasons": "",
                                     "committee": "x"}).status_code == 422
    assert post_form(coord, decide, {"decision": "selected", "reasons": "Critères 1 et 2",
                                     "committee": "Préfet, maire, 2 délégués des conseils"}
                     ).status_code == 302
    assert post_form(coord, decide, {"decision": "not_selected", "reasons": "x",
                                     "committee": "x"}).status_code == 422
    page = app.test_client().get(f"/programmation/appels/{setup['call']}").get_data(
        as_text=True)
    assert "Utile au quartier" in page and "Critères 1 et 2" in page
    assert "2 délégués des conseils" in page
    # After the decision, avis are closed.
    assert post_form(client, url, {"opinion": "reserved", "text": "trop tard"}).status_code == 422
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ApplicationAvis)) == 1


def test_evaluation_decision_moves_the_status_or_changes_nothing(app, client, setup):
    with app.app_context():
        action = actionplan.get_action(setup["action"])
        actionplan.change_status(None, action, ActionStatus.IN_PROGRESS, "")
        db.session.commit()
    login(client, "coord@example.org")
    url = f"/plan-d-action/fiche/{setup['action']}"
    # Replace without naming the replacing action: refused, nothing written.
    resp = post_form(client, f"/programmation/actions/{setup['action']}/evaluation",
                     {"year": "2025", "outcome": "replace", "reasons": "Peu efficace"})
    assert resp.status_code == 422
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(EvaluationDecision)) == 0
        assert actionplan.get_action(setup["action"]).status == ActionStatus.IN_PROGRESS
    resp = post_form(client, f"/programmation/actions/{setup['action']}/evaluation",
                     {"year": "2025", "outcome": "evolve", "reasons": "Étendre au samedi"})
    assert resp.status_code == 302
    with app.app_context():
        assert actionplan.get_action(setup["action"]).status == ActionStatus.EVOLVED
    assert post_form(client, f"/programmation/actions/{setup['action']}/evaluation",
                     {"year": "2025", "outcome": "continue", "reasons": "x"}
                     ).status_code == 422  # one decision per year
    page = app.test_client().get(url).get_data(as_text=True)
    assert "Étendre au samedi" in page and "2025" in page


def test_open_data_lists_calls_and_the_action_carries_avis_and_evaluations(app, client, setup):
    with app.app_context():
        action = actionplan.get_action(setup["action"])
        cycle.record_evaluation(None, action, year=2025, outcome="continue",
                                reasons="Bons résultats", replaced_by=None)
        db.session.commit()
    calls = client.get("/api/v1/calls").get_json()["items"]
    assert calls[0]["criteria"] == ["Besoin mal satisfait", "Coopération"]
    assert calls[0]["max_cofinancing_percent"] == 80
    data = client.get(f"/api/v1/actions/{setup['action']}").get_json()
    assert data["evaluations"] == [{"year": 2025, "outcome": "continue", "replaced_by_id": None,
                                    "reasons": "Bons résultats"}]
    assert data["council_avis"] == []
