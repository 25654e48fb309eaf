"""Action-plan pages and API: tree, filters, action page, coordinator forms, bad input."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from civic.actionplan import services
from civic.actionplan.models import IndicatorValue, PlanNode, StatusChange
from civic.actionplan.states import ActionStatus
from civic.extensions import db
from tests.conftest import csrf_from, login, make_plan, make_user, plan_action, post_form


@pytest.fixture
def plan_ids(app):
    """A small plan; returns (plan id, action 1.1.1 id, action 1.1.2 id)."""
    with app.app_context():
        plan = make_plan()
        return plan.id, plan_action(plan, "1.1.1").id, plan_action(plan, "1.1.2").id


@pytest.fixture
def coordinator_client(app, client, plan_ids):
    """A client logged in as a coordinator."""
    with app.app_context():
        make_user("coord@example.org", roles=("coordinator",))
    login(client, "coord@example.org")
    return client


def test_plan_list_replaces_the_placeholder(client, plan_ids):
    """/plan-d-action lists the plans; the home page still links to it."""
    html = client.get("/plan-d-action").get_data(as_text=True)
    assert "Plan de test" in html and f"/plan-d-action/{plan_ids[0]}" in html
    assert 'href="/plan-d-action"' in client.get("/").get_data(as_text=True)


def test_plan_page_shows_the_tree_codes_statuses_and_rule(client, plan_ids):
    """Nested lists with level labels, codes, statuses, progress and the progress rule."""
    html = client.get(f"/plan-d-action/{plan_ids[0]}").get_data(as_text=True)
    assert html.count("<h1>") == 1
    assert html.count('<ul class="plan-tree">') >= 3  # nested
    for text in ("1.1.1", "Objectif un-deux", "Prévue", "0 % réalisé",
                 "Comment l’avancement est calculé", "Plan built for the tests."):
        assert text in html or text.replace("’", "'") in html, text
    assert "style=" not in html  # CSP: style-src 'self'


def test_le_havre_page_says_the_other_actions_are_not_in_the_source(app, client):
    """The imported seed plan carries its source note to the page."""
    with app.app_context():
        services.import_seed_plans()
        db.session.commit()
        plan = next(p for p in services.list_plans() if p.slug == "le-havre-ensemble")
        plan_id = plan.id
    html = client.get(f"/plan-d-action/{plan_id}").get_data(as_text=True)
    assert "The other 67 actions are not in the source" in html
    assert ("La source annonce 73 actions mais n’en décrit que 6 : les 67 autres ne figurent "
            "pas dans la source") in html.replace("'", "’")
    assert "Orchestre Démos" in html


def test_filters_by_status(app, client, plan_ids):
    """Filtering shows the matching action and hides the others; bad values are explained."""
    with app.app_context():
        action = db.session.get(PlanNode, plan_ids[1])
        services.change_status(None, action, ActionStatus.IN_PROGRESS, "")
        db.session.commit()
    html = client.get(f"/plan-d-action/{plan_ids[0]}?statut=in_progress").get_data(as_text=True)
    assert "Action A" in html and "Action B" not in html and "Axe deux" not in html
    assert "1 action correspond aux filtres" in html
    resp = client.get(f"/plan-d-action/{plan_ids[0]}?statut=fini&quartier=%27x&porteur=Zorro")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "Valeur inconnue ignorée" in html and "Action B" in html


def test_action_page_and_unknown_ids(client, plan_ids):
    """Action page renders; unknown and absurd ids are 404, not 500."""
    html = client.get(f"/plan-d-action/fiche/{plan_ids[1]}").get_data(as_text=True)
    assert "Action A" in html and "Plus de jeunes accompagnés" in html
    assert "Aucun indicateur" in html
    for url in ("/plan-d-action/fiche/999999", "/plan-d-action/fiche/99999999999999999999999",
                "/plan-d-action/999999", "/api/v1/plans/99999999999999999999",
                "/api/v1/actions/99999999999999999999"):
        assert client.get(url).status_code == 404, url


def test_coordinator_changes_status_and_the_public_sees_the_timeline(app, coordinator_client,
                                                                     plan_ids):
    """Form → service → commit → redirect; the timeline shows the note."""
    url = f"/plan-d-action/fiche/{plan_ids[1]}/statut"
    resp = post_form(coordinator_client, url, {"status": "in_progress",
                                               "note": "Premier atelier tenu"})
    assert resp.status_code == 302
    html = coordinator_client.get(resp.location).get_data(as_text=True)
    assert "Premier atelier tenu" in html and "En cours" in html


def test_invalid_transition_and_unknown_status_stay_on_the_page(app, coordinator_client,
                                                                plan_ids):
    """Unknown status and forbidden transitions: 422 with the reason, note kept, no write."""
    url = f"/plan-d-action/fiche/{plan_ids[1]}/statut"
    resp = post_form(coordinator_client, url, {"status": "done", "note": "trop tôt"})
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert "ne peut devenir que" in html and "trop tôt" in html
    resp = post_form(coordinator_client, url, {"status": "teleported", "note": ""})
    assert resp.status_code == 422
    resp = post_form(coordinator_client, url, {"status": "replaced", "replaced_by": "abc"})
    assert resp.status_code == 422
    with app.app_context():
        assert db.session.scalar(select(func.count(StatusChange.id))) == 0


def test_forged_post_without_csrf_is_refused(app, coordinator_client, plan_ids):
    """No CSRF token: 400 and nothing written."""
    resp = coordinator_client.post(f"/plan-d-action/fiche/{plan_ids[1]}/statut",
                                   data={"status": "in_progress"})
    assert resp.status_code == 400
    with app.app_context():
        assert db.session.scalar(select(func.count(StatusChange.id))) == 0


def test_indicator_and_non_numeric_value(app, coordinator_client, plan_ids):
    """Add an indicator, refuse a word as a value (input kept), accept a number."""
    base = f"/plan-d-action/fiche/{plan_ids[1]}"
    resp = post_form(coordinator_client, base + "/indicateurs/nouveau",
                     {"name": "Jeunes accompagnés", "unit": "personnes", "baseline": "4",
                      "baseline_year": "2023", "source": "Mission locale"})
    assert resp.status_code == 302
    with app.app_context():
        ind_id = db.session.get(PlanNode, plan_ids[1]).indicators[0].id
    url = base + "/indicateurs/valeur"
    resp = post_form(coordinator_client, url, {"indicator": str(ind_id), "year": "2025",
                                               "target": "20", "measured": "beaucoup"})
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert "Saisissez un nombre" in html and 'value="beaucoup"' in html
    resp = post_form(coordinator_client, url, {"indicator": str(ind_id), "year": "deux mille",
                                               "target": "20", "measured": ""})
    assert resp.status_code == 422
    with app.app_context():
        assert db.session.scalar(select(func.count(IndicatorValue.id))) == 0
    resp = post_form(coordinator_client, url, {"indicator": str(ind_id), "year": "2025",
                                               "target": "20", "measured": "12,5"})
    assert resp.status_code == 302
    html = coordinator_client.get(base).get_data(as_text=True)
    assert "<table>" in html and "12,5" in html and "<svg" in html and 'role="img"' in html
    data = coordinator_client.get(f"/api/v1/actions/{plan_ids[1]}").get_json()
    assert data["indicators"][0]["values"] == [{"year": 2025, "target": 20.0, "measured": 12.5}]


def test_indicator_of_another_action_is_refused(app, coordinator_client, plan_ids):
    """An indicator id from another action cannot be written through this action's form."""
    with app.app_context():
        other = db.session.get(PlanNode, plan_ids[2])
        ind = services.add_indicator(None, other, name="n", unit="u", baseline=None,
                                     baseline_year=None, source="")
        mine = db.session.get(PlanNode, plan_ids[1])
        services.add_indicator(None, mine, name="m", unit="u", baseline=None,
                               baseline_year=None, source="")
        db.session.commit()
        other_id = ind.id
    resp = post_form(coordinator_client, f"/plan-d-action/fiche/{plan_ids[1]}/indicateurs/valeur",
                     {"indicator": str(other_id), "year": "2025", "target": "1", "measured": ""})
    assert resp.status_code == 422


def test_edit_action_details(app, coordinator_client, plan_ids):
    """Porteur, budget and quartiers are saved and shown; a bad budget is refused."""
    url = f"/plan-d-action/fiche/{plan_ids[1]}/details"
    with app.app_context():
        from civic.territory.models import Quartier

        qid = db.session.scalars(select(Quartier.id)).first()
    resp = post_form(coordinator_client, url, {"porteur": "Centre social", "partners": "CAF",
                                               "budget": "douze", "quartiers": [str(qid)]})
    assert resp.status_code == 422 and 'value="Centre social"' in resp.get_data(as_text=True)
    resp = post_form(coordinator_client, url, {"porteur": "Centre social", "partners": "CAF",
                                               "budget": "1500", "period_start": "2024",
                                               "period_end": "2026", "quartiers": [str(qid)]})
    assert resp.status_code == 302
    html = coordinator_client.get(f"/plan-d-action/fiche/{plan_ids[1]}").get_data(as_text=True)
    assert "Centre social" in html and "1\u202f500,00\xa0€" in html
    html = coordinator_client.get(
        f"/plan-d-action/{plan_ids[0]}?porteur=Centre+social").get_data(as_text=True)
    assert "Action A" in html and "Action B" not in html


def test_residents_cannot_reach_coordination_forms(app, client, plan_ids):
    """A resident gets 403 on the forms and sees no coordination links."""
    with app.app_context():
        make_user("ines@example.org")
    login(client, "ines@example.org")
    assert client.get(f"/plan-d-action/fiche/{plan_ids[1]}/statut").status_code == 403
    html = client.get(f"/plan-d-action/fiche/{plan_ids[1]}").get_data(as_text=True)
    assert "/statut" not in html
    token = csrf_from(client.get("/").get_data(as_text=True))
    resp = client.post(f"/plan-d-action/fiche/{plan_ids[1]}/statut",
                       data={"csrf_token": token, "status": "in_progress"})
    assert resp.status_code == 403


def test_api_plans_tree_and_action(client, plan_ids):
    """Plans list, one plan's tree with codes/status/progress, one action with indicators."""
    items = client.get("/api/v1/plans").get_json()["items"]
    assert [p["slug"] for p in items] == ["plan-de-test"] and items[0]["progress"] == 0
    tree = client.get(f"/api/v1/plans/{plan_ids[0]}").get_json()
    assert [n["code"] for n in tree["nodes"]] == ["1", "2"]
    first = tree["nodes"][0]["children"][0]["children"][0]
    assert (first["code"], first["status"], first["is_action"]) == ("1.1.1", "planned", True)
    action = client.get(f"/api/v1/actions/{plan_ids[1]}").get_json()
    assert action["expected_impact"] == ["Plus de jeunes accompagnés"]
    assert action["indicators"] == [] and action["timeline"] == []
    branch_id = tree["nodes"][0]["id"]
    assert client.get(f"/api/v1/actions/{branch_id}").status_code == 404


def test_api_responses_match_the_openapi_schemas(app, client, plan_ids):
    """Real plan and action responses validate against the published document."""
    jsonschema = pytest.importorskip("jsonschema")
    with app.app_context():
        action = db.session.get(PlanNode, plan_ids[1])
        ind = services.add_indicator(None, action, name="n", unit="u", baseline="1",
                                     baseline_year=2020, source="s")
        services.record_indicator_value(None, ind, year=2024, target="3", measured="2")
        services.change_status(None, action, ActionStatus.IN_PROGRESS, "go")
        db.session.commit()
    doc = client.get("/api/v1/openapi.json").get_json()
    for url, name in ((f"/api/v1/plans/{plan_ids[0]}", "Plan"),
                      (f"/api/v1/actions/{plan_ids[1]}", "Action")):
        schema = {**doc, "$ref": f"#/components/schemas/{name}"}
        jsonschema.Draft202012Validator(schema).validate(client.get(url).get_json())
    schema = {**doc, **doc["paths"]["/plans"]["get"]["responses"]["200"]["content"][
        "application/json"]["schema"]}
    jsonschema.Draft202012Validator(schema).validate(client.get("/api/v1/plans").get_json())


def test_cli_import_seeds_is_idempotent(app, runner):
    """`flask actionplan import-seeds` prints the counts and creates nothing the second time."""
    result = runner.invoke(args=["actionplan", "import-seeds"])
    assert result.exit_code == 0, result.output
    assert "porte-du-hainaut-contrat-de-ville: 7 axe, 20 priorite, 50 objectif, 126 mesure" \
        in result.output
    assert "plans: +3 new" in result.output
    result = runner.invoke(args=["actionplan", "import-seeds"])
    assert "plans: +0 new, 0 changed; nodes: +0 new, 0 changed" in result.output
