"""Residents' participation per stage, and indicator values per public prioritaire."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from civic.actionplan import services
from civic.actionplan.models import IndicatorBreakdown, IndicatorValue, Participation
from civic.actionplan.states import ActionStatus, ParticipationStage
from civic.extensions import db
from tests.conftest import login, make_plan, make_user, plan_action, post_form


@pytest.fixture
def action_ids(app):
    """The small plan with a second public; returns (action id, branch id, plan id)."""
    with app.app_context():
        plan = make_plan(publics_prioritaires=[
            {"id": "jeunes", "label": "Jeunes de moins de 26 ans", "source_text": "jeunes",
             "scope_codes": [], "source": "test.txt"},
            {"id": "familles", "label": "Familles monoparentales", "source_text": "familles",
             "scope_codes": [], "source": "test.txt"}])
        return plan_action(plan, "1.1.1").id, plan_action(plan, "1.1").id, plan.id


@pytest.fixture
def coordinator(app, client, action_ids):
    """A client logged in as a coordinator."""
    with app.app_context():
        make_user("coord@example.org", roles=("coordinator",))
    login(client, "coord@example.org")
    return client


def test_participation_service_refuses_bad_input(app, action_ids):
    """Unknown stage, no date, negative count, no text, a branch: refused on the right field."""
    action_id, branch_id, _plan_id = action_ids
    with app.test_request_context():
        action, branch = services.get_node(action_id), services.get_node(branch_id)
        good = {"stage": "core", "held_on": date(2025, 5, 3), "participants": 12,
                "description": "Chantier participatif"}
        for change, field in (({"stage": "milieu"}, "stage"), ({"held_on": None}, "held_on"),
                              ({"participants": -1}, "participants"),
                              ({"description": "  "}, "description")):
            with pytest.raises(services.ActionPlanError) as caught:
                services.record_participation(None, action, **{**good, **change})
            assert caught.value.field == field
        with pytest.raises(services.ActionPlanError):
            services.record_participation(None, branch, **good)
        services.record_participation(None, action, **good)
        services.record_participation(None, action, **{**good, "participants": 8,
                                                       "held_on": date(2025, 6, 1)})
        summary = {s.stage: s for s in services.participation_by_stage(action)}
        assert summary[ParticipationStage.CORE].participants == 20
        assert summary[ParticipationStage.START].entries == []
        assert [s.stage for s in services.participation_by_stage(action)] == list(
            ParticipationStage)


def test_coordinator_records_participation_and_the_public_sees_it(app, client, coordinator,
                                                                  action_ids):
    """The form (refused then accepted), then the public page lists the three stages."""
    action_id = action_ids[0]
    url = f"/plan-d-action/fiche/{action_id}/participation"
    page = coordinator.get(f"/plan-d-action/fiche/{action_id}").get_data(as_text=True)
    assert url in page
    resp = post_form(coordinator, url, {"stage": "start", "held_on": "2025-02-10",
                                        "participants": "-4",
                                        "description": "Atelier de conception"})
    assert resp.status_code == 422
    assert "Atelier de conception" in resp.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count(Participation.id))) == 0
    resp = post_form(coordinator, url, {"stage": "start", "held_on": "2025-02-10",
                                        "participants": "42",
                                        "description": "Atelier de conception"})
    assert resp.status_code == 302
    html = app.test_client().get(f"/plan-d-action/fiche/{action_id}").get_data(as_text=True)
    assert "Participation des habitants" in html
    for stage in ("Au début", "Au cœur", "À la fin"):
        assert f"<h3>{stage}</h3>" in html
    assert "42 habitants" in html and "Atelier de conception" in html
    assert '<time datetime="2025-02-10">' in html
    assert "Rien n’a encore été enregistré pour cette étape." in html.replace("'", "’")
    assert url not in html  # the link is for coordinators only


def test_values_per_public_go_to_their_own_table(app, client, coordinator, action_ids):
    """A value for a public is kept apart: the overall value and progress do not change,
    and the action page shows a table per year and public."""
    action_id, _branch, plan_id = action_ids
    with app.test_request_context():
        action = services.get_node(action_id)
        coord = make_user("other@example.org", roles=("coordinator",))
        services.change_status(coord, action, ActionStatus.IN_PROGRESS, "")
        ind = services.add_indicator(coord, action, name="Jeunes accompagnés", unit="personnes",
                                     baseline=None, baseline_year=None, source="")
        services.record_indicator_value(coord, ind, year=2025, target=100, measured=50)
        db.session.commit()
        ind_id = ind.id
        jeunes, familles = (p.id for p in action.plan.publics)
        before = services.progress(action)
    url = f"/plan-d-action/fiche/{action_id}/indicateurs/valeur"
    assert "Pour quel public" in coordinator.get(url).get_data(as_text=True)
    for public, target, measured in ((jeunes, "60", "45"), (familles, "", "5,5")):
        resp = post_form(coordinator, url, {"indicator": ind_id, "year": "2025",
                                            "public": public, "target": target,
                                            "measured": measured})
        assert resp.status_code == 302
    resp = post_form(coordinator, url, {"indicator": ind_id, "year": "2025", "public": "999",
                                        "target": "", "measured": "3"})
    assert resp.status_code == 422
    with app.test_request_context():
        action = services.get_node(action_id)
        assert services.progress(action) == before == 50
        assert db.session.scalar(select(func.count(IndicatorValue.id))) == 1
        rows = db.session.execute(select(IndicatorBreakdown).order_by(
            IndicatorBreakdown.public_id)).scalars().all()
        assert [(r.public_id, r.target, r.measured) for r in rows] == [
            (jeunes, 60, 45), (familles, None, 5.5)]
    html = app.test_client().get(f"/plan-d-action/fiche/{action_id}").get_data(as_text=True)
    table = html.split('<table class="breakdown">')[1].split("</table>")[0]
    assert "Jeunes accompagnés par public prioritaire (personnes)" in table
    assert '<th scope="col">Jeunes de moins de 26 ans</th>' in table
    assert '<th scope="col">Familles monoparentales</th>' in table
    assert '<th scope="row">2025</th>' in table
    assert "60 / 45" in table and "— / 5,5" in table and "100 / 50" in table


def test_a_public_of_another_plan_is_refused(app, action_ids):
    """record_breakdown checks that the public belongs to the indicator's plan."""
    action_id = action_ids[0]
    with app.test_request_context():
        other = make_plan(slug="autre-plan")
        action = services.get_node(action_id)
        ind = services.add_indicator(None, action, name="X", unit="u", baseline=None,
                                     baseline_year=None, source="")
        with pytest.raises(services.ActionPlanError) as caught:
            services.record_breakdown(None, ind, other.publics[0], year=2025, target=1,
                                      measured=None)
        assert caught.value.field == "public"
        with pytest.raises(services.ActionPlanError) as caught:
            services.record_breakdown(None, ind, action.plan.publics[0], year=2025,
                                      target=None, measured="beaucoup")
        assert caught.value.field == "measured"
