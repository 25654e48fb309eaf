"""The admin grant form: a scope's value carries its kind, so colliding ids (service 3,
council 3) grant the right object, and a scope of another kind than the role's is refused."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import func, select

from civic.accounts import services as accounts
from civic.accounts.models import AuditEntry, RoleGrant
from civic.extensions import db
from civic.permissions import ROLES
from civic.territory import services as territory
from tests.bienveilleurs.factories import make_interlocutor
from tests.conftest import login, make_plan, make_user, plan_action, post_form


@pytest.fixture
def colliding(app, client):
    """A service and a council with the SAME id, a partner organisation, an action, and a
    campaign; the admin is logged in. Returns the ids."""
    with app.app_context():
        admin = make_user("admin@example.org", roles=("admin",))
        target = make_user("ines@example.org")
        quartier_id = target.quartier_id
        service = territory.save_service(None, None, name="Voirie", slug="voirie", email=None)
        council = territory.save_council(None, None, name="Conseil DEN-01",
                                         quartier_id=quartier_id)
        db.session.commit()
        assert service.id == council.id  # the collision the old form could not tell apart
        org = make_interlocutor(target.quartier)
        action = plan_action(make_plan(), "1.1.1")
        from tests.budgeting.factories import make_campaign

        campaign = make_campaign(actor=admin)
        ids = {"user": target.id, "service": service.id, "council": council.id,
               "org": org.id, "action": action.id, "campaign": campaign.id}
    login(client, "admin@example.org")
    return ids


def _grants(uid: int) -> list[tuple[str, int | None]]:
    return [(g.role, g.scope_id) for g in db.session.execute(
        select(RoleGrant).where(RoleGrant.user_id == uid).order_by(RoleGrant.id)).scalars()]


def _selected(html: str) -> list[str]:
    select_html = html[html.index('name="scope"'):]
    select_html = select_html[:select_html.index("</select>")]
    return re.findall(r'<option selected value="([^"]*)"|<option value="([^"]*)" selected',
                      select_html)


def test_every_scoped_role_has_its_own_group_of_values(app, client, colliding):
    html = client.get(f"/admin/utilisateurs/{colliding['user']}").get_data(as_text=True)
    kinds = {r.scope for r in ROLES.values() if r.scope and r.grantable}
    assert kinds == {"service", "council", "interlocutor", "campaign", "action"}
    for kind in kinds:
        assert f'value="{kind}:' in html, kind
    assert html.count("<optgroup") == len(kinds)
    # The same number appears twice, once per kind: the values tell them apart.
    n = colliding["service"]
    assert f'value="service:{n}"' in html and f'value="council:{n}"' in html


def test_a_colliding_id_grants_the_scope_that_was_chosen(app, client, colliding):
    uid, n = colliding["user"], colliding["council"]
    url = f"/admin/utilisateurs/{uid}"
    resp = post_form(client, url, {"role": "council_member", "scope": f"council:{n}"})
    assert resp.status_code == 302
    resp = post_form(client, url, {"role": "agent", "scope": f"service:{n}"})
    assert resp.status_code == 302
    resp = post_form(client, url, {"role": "interlocutor",
                                   "scope": f"interlocutor:{colliding['org']}"})
    assert resp.status_code == 302
    resp = post_form(client, url, {"role": "desk_agent",
                                   "scope": f"campaign:{colliding['campaign']}"})
    assert resp.status_code == 302
    with app.app_context():
        assert _grants(uid) == [("council_member", n), ("agent", n),
                                ("interlocutor", colliding["org"]),
                                ("desk_agent", colliding["campaign"])]
        details = [e.detail for e in db.session.execute(
            select(AuditEntry).where(AuditEntry.action == "role.granted")).scalars()]
        assert "council_member Conseil DEN-01" in details and "agent Voirie" in details


@pytest.mark.parametrize("role,scope", [
    ("agent", "council:{council}"),           # a council's id offered for an agent
    ("council_member", "service:{service}"),  # the collision the other way round
    ("porteur", "campaign:{campaign}"),
    ("desk_agent", "action:{action}"),
    ("interlocutor", "service:{service}"),
])
def test_a_scope_of_another_kind_is_refused_and_nothing_is_written(app, client, colliding,
                                                                   role, scope):
    url = f"/admin/utilisateurs/{colliding['user']}"
    value = scope.format(**colliding)
    with app.app_context():
        audits = db.session.scalar(select(func.count(AuditEntry.id)))
    resp = post_form(client, url, {"role": role, "scope": value})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "ne correspond pas au rôle" in html  # the translated message, on the form
    assert 'id="scope-error"' in html
    assert _selected(html) == [(value, "")] or _selected(html) == [("", value)]
    with app.app_context():
        assert _grants(colliding["user"]) == []
        assert db.session.scalar(select(func.count(AuditEntry.id))) == audits


def test_unscoped_role_with_a_scope_and_malformed_values_are_refused(app, client, colliding):
    url = f"/admin/utilisateurs/{colliding['user']}"
    resp = post_form(client, url, {"role": "coordinator",
                                   "scope": f"service:{colliding['service']}"})
    assert resp.status_code == 422
    assert "n'a pas de périmètre" in html.unescape(resp.get_data(as_text=True))
    for bad in (str(colliding["service"]), "service:", "planet:1", "service:abc",
                "service:99999999999", "council:-1"):
        resp = post_form(client, url, {"role": "agent", "scope": bad})
        assert resp.status_code == 422, bad
        assert "Choisissez un périmètre dans la liste" in resp.get_data(as_text=True)
    with app.app_context():
        assert _grants(colliding["user"]) == []


def test_redisplay_keeps_the_chosen_scope_not_its_namesake(app, client, colliding):
    url = f"/admin/utilisateurs/{colliding['user']}"
    n = colliding["council"]
    # Refused for another reason (the role is missing): the council stays selected, not the
    # service with the same id that comes first in the list.
    resp = post_form(client, url, {"role": "", "scope": f"council:{n}"})
    assert resp.status_code == 422
    selected = _selected(resp.get_data(as_text=True))
    assert selected in ([(f"council:{n}", "")], [("", f"council:{n}")])


def test_the_service_refuses_a_mismatched_kind_directly(app, colliding):
    with app.app_context():
        admin = accounts.find_user_by_email("admin@example.org")
        ines = accounts.find_user_by_email("ines@example.org")
        with pytest.raises(accounts.AccountError) as exc:
            accounts.grant_role(admin, ines, "agent", colliding["council"],
                                scope_kind="council")
        assert exc.value.field == "scope_id"
        grant = accounts.grant_role(admin, ines, "agent", colliding["service"],
                                    scope_kind="service")
        assert grant.scope_id == colliding["service"]
        db.session.rollback()
