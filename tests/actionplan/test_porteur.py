"""Porteurs (action owners): a grant per action lets them update that action, and no other."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from civic.accounts import services as accounts
from civic.actionplan import services
from civic.actionplan.models import IndicatorValue, Participation, PlanNode
from civic.actionplan.states import ActionStatus
from civic.extensions import db
from tests.conftest import login, make_plan, make_user, plan_action, post_form


@pytest.fixture
def world(app):
    """A plan; Paul is the porteur of 1.1.1 (which has an indicator), not of 1.1.2."""
    with app.app_context():
        make_user("admin@example.org", roles=("admin",))
        plan = make_plan()
        mine, other = plan_action(plan, "1.1.1"), plan_action(plan, "1.1.2")
        for action in (mine, other):
            services.add_indicator(None, action, name="Jeunes inscrits", unit="jeunes",
                                   baseline=None, baseline_year=None, source="")
        make_user("paul@example.org", roles=(("porteur", mine.id),))
        make_user("coord@example.org", roles=("coordinator",))
        make_user("ines@example.org")
        db.session.commit()
        return {"mine": mine.id, "other": other.id,
                "mine_indicator": mine.indicators[0].id,
                "other_indicator": other.indicators[0].id,
                "branch": next(n.id for n in plan.nodes if not n.is_action)}


def _user(email):
    from civic.accounts.models import User

    return db.session.execute(select(User).where(User.email == email)).scalar_one()


def _values() -> int:
    return db.session.scalar(select(func.count()).select_from(IndicatorValue))


# --- services ------------------------------------------------------------------------------


def test_can_update_action_only_for_the_team_and_the_actions_porteur(app, world):
    with app.app_context():
        mine, other = db.session.get(PlanNode, world["mine"]), db.session.get(PlanNode,
                                                                               world["other"])
        branch = db.session.get(PlanNode, world["branch"])
        paul, coord, ines = (_user(e) for e in ("paul@example.org", "coord@example.org",
                                                 "ines@example.org"))
        assert services.can_update_action(paul, mine)
        assert not services.can_update_action(paul, other)
        assert not services.can_update_action(paul, branch)
        assert not services.can_update_action(paul, None)
        assert services.can_update_action(coord, mine) and services.can_update_action(coord,
                                                                                      other)
        assert not services.can_update_action(coord, branch)  # branches have no status
        assert not services.can_update_action(ines, mine)
        from flask_login import AnonymousUserMixin

        assert not services.can_update_action(AnonymousUserMixin(), mine)
        assert [a.id for a in services.actions_of_porteur(paul)] == [world["mine"]]
        assert services.actions_of_porteur(coord) == []


def test_porteur_scope_choices_list_only_actions_with_plan_and_code(app, world):
    with app.app_context():
        choices = dict(accounts.scope_choices("porteur"))
        assert world["mine"] in choices and world["other"] in choices
        assert world["branch"] not in choices
        assert choices[world["mine"]].startswith(
            db.session.get(PlanNode, world["mine"]).plan.slug + " 1.1.1 — ")
        admin, ines = _user("admin@example.org"), _user("ines@example.org")
        with pytest.raises(accounts.AccountError):
            accounts.grant_role(admin, ines, "porteur", world["branch"])
        with pytest.raises(accounts.AccountError):
            accounts.grant_role(admin, ines, "porteur", None)
        accounts.grant_role(admin, ines, "porteur", world["other"])
        db.session.commit()
        assert services.can_update_action(ines, db.session.get(PlanNode, world["other"]))


# --- views ---------------------------------------------------------------------------------


def test_porteur_records_a_value_on_their_action(app, client, world):
    login(client, "paul@example.org")
    url = f"/plan-d-action/fiche/{world['mine']}/indicateurs/valeur"
    assert client.get(url).status_code == 200
    resp = post_form(client, url, {"indicator": world["mine_indicator"], "year": "2025",
                                   "public": "", "target": "40", "measured": "12"})
    assert resp.status_code == 302
    page = client.get(resp.location)
    assert page.status_code == 200
    with app.app_context():
        value = db.session.execute(select(IndicatorValue)).scalar_one()
        assert (value.indicator_id, value.year, value.target, value.measured) == (
            world["mine_indicator"], 2025, 40, 12)
    public = app.test_client().get(f"/plan-d-action/fiche/{world['mine']}").get_data(
        as_text=True)
    assert "2025" in public and "12" in public


def test_porteur_updates_status_and_participation_of_their_action(app, client, world):
    login(client, "paul@example.org")
    base = f"/plan-d-action/fiche/{world['mine']}"
    assert post_form(client, f"{base}/statut", {"status": "in_progress", "note": "Lancée",
                                                "replaced_by": ""}).status_code == 302
    assert post_form(client, f"{base}/participation", {
        "stage": "start", "held_on": "2025-03-01", "participants": "14",
        "description": "Réunion de lancement"}).status_code == 302
    with app.app_context():
        assert db.session.get(PlanNode, world["mine"]).status == ActionStatus.IN_PROGRESS
        assert db.session.scalar(select(func.count()).select_from(Participation)) == 1
    # The action page shows the porteur the forms they may use, not the team's.
    html = client.get(base).get_data(as_text=True)
    assert f"{base}/indicateurs/valeur" in html and f"{base}/statut" in html
    assert f"{base}/details" not in html and f"{base}/indicateurs/nouveau" not in html


def test_porteur_gets_403_on_another_action(app, client, world):
    login(client, "paul@example.org")
    base = f"/plan-d-action/fiche/{world['other']}"
    for suffix in ("/statut", "/indicateurs/valeur", "/participation"):
        assert client.get(base + suffix).status_code == 403, suffix
    resp = post_form(client, base + "/indicateurs/valeur", {
        "indicator": world["other_indicator"], "year": "2025", "public": "", "target": "1",
        "measured": "1"}, token_page="/")
    assert resp.status_code == 403
    # Their own action's indicator list does not accept the other action's indicator either.
    resp = post_form(client, f"/plan-d-action/fiche/{world['mine']}/indicateurs/valeur", {
        "indicator": world["other_indicator"], "year": "2025", "public": "", "target": "1",
        "measured": "1"})
    assert resp.status_code == 422
    # The team's pages stay closed to them.
    assert client.get(f"/plan-d-action/fiche/{world['mine']}/details").status_code == 403
    assert client.get(f"/plan-d-action/fiche/{world['mine']}/indicateurs/nouveau"
                      ).status_code == 403
    assert "/statut" not in client.get(base).get_data(as_text=True)
    with app.app_context():
        assert _values() == 0


def test_anonymous_and_residents_are_kept_out(app, client, world):
    url = f"/plan-d-action/fiche/{world['mine']}/indicateurs/valeur"
    resp = client.get(url)
    assert resp.status_code == 302 and "/compte/connexion" in resp.location
    resp = client.get("/plan-d-action/mes-actions")
    assert resp.status_code == 302 and "/compte/connexion" in resp.location
    login(client, "ines@example.org")
    assert client.get(url).status_code == 403
    assert client.get("/plan-d-action/mes-actions").status_code == 403


def test_coordinator_still_updates_every_action(app, client, world):
    login(client, "coord@example.org")
    resp = post_form(client, f"/plan-d-action/fiche/{world['other']}/indicateurs/valeur", {
        "indicator": world["other_indicator"], "year": "2024", "public": "", "target": "5",
        "measured": ""})
    assert resp.status_code == 302
    with app.app_context():
        assert _values() == 1


def test_my_actions_lists_the_porteurs_actions_and_the_dashboard_links_it(app, client, world):
    login(client, "paul@example.org")
    assert "/plan-d-action/mes-actions" in client.get("/mon-espace").get_data(as_text=True)
    html = client.get("/plan-d-action/mes-actions").get_data(as_text=True)
    assert html.count("<h1>") == 1 and "Mes actions" in html
    assert f"/plan-d-action/fiche/{world['mine']}/indicateurs/valeur" in html
    assert f"/plan-d-action/fiche/{world['other']}\"" not in html
    assert "/conseils-citoyens/mes-questions" in html


def test_admin_grants_the_porteur_role_from_the_admin_page(app, client, world):
    with app.app_context():
        ines_id = _user("ines@example.org").id
    login(client, "admin@example.org")
    url = f"/admin/utilisateurs/{ines_id}"
    html = client.get(url).get_data(as_text=True)
    assert "Porteur d&#39;action" in html or "Porteur d'action" in html
    assert "1.1.1 — " in html  # the action is offered as a scope
    assert post_form(client, url, {"role": "porteur", "scope": ""}).status_code == 422
    assert post_form(client, url, {"role": "porteur",
                                   "scope": f"action:{world['branch']}"}).status_code == 422
    assert post_form(client, url, {"role": "porteur",
                                   "scope": f"action:{world['mine']}"}).status_code == 302
    other = app.test_client()
    login(other, "ines@example.org")
    assert other.get(f"/plan-d-action/fiche/{world['mine']}/statut").status_code == 200
    assert other.get(f"/plan-d-action/fiche/{world['other']}/statut").status_code == 403
