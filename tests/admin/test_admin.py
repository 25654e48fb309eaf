"""Admin: roles (audited, scoped), communes and quartiers, services."""

from __future__ import annotations

import json

from sqlalchemy import select

from civic.accounts.models import AuditEntry, RoleGrant, User
from civic.extensions import db
from civic.territory.models import CityService, Quartier
from tests.conftest import login, make_user, post_form


def _admin(client, app):
    with app.app_context():
        make_user("admin@example.org", roles=("admin",))
        target = make_user("ines@example.org")
        svc = CityService(name="Voirie", slug="voirie")
        db.session.add(svc)
        db.session.commit()
        ids = target.id, svc.id
    login(client, "admin@example.org")
    return ids


def test_grant_scoped_role_and_revoke_are_audited(client, app):
    uid, sid = _admin(client, app)
    url = f"/admin/utilisateurs/{uid}"
    resp = post_form(client, url, {"role": "agent", "scope": ""})
    assert resp.status_code == 422 and "périmètre" in resp.get_data(as_text=True).lower()
    assert post_form(client, url, {"role": "agent", "scope": f"service:{sid}"}).status_code == 302
    assert post_form(client, url, {"role": "agent", "scope": f"service:{sid}"}).status_code == 422
    assert post_form(client, url, {"role": "pope", "scope": ""}).status_code == 422
    with app.app_context():
        grant = db.session.execute(select(RoleGrant).where(RoleGrant.user_id == uid)).scalar_one()
        assert grant.role == "agent" and grant.scope_id == sid
        gid = grant.id
    resp = post_form(client, f"/admin/utilisateurs/{uid}/roles/{gid}/retirer", {}, token_page=url)
    assert resp.status_code == 302
    with app.app_context():
        actions = [a for (a,) in db.session.execute(
            select(AuditEntry.action).where(AuditEntry.subject_user_id == uid))]
        assert actions.count("role.granted") == 1 and actions.count("role.revoked") == 1
    html = client.get("/admin/journal").get_data(as_text=True)
    assert "role.revoked" in html


def test_last_admin_cannot_be_removed(client, app):
    _admin(client, app)
    with app.app_context():
        admin = db.session.execute(select(User).where(User.email == "admin@example.org")).scalar_one()
        gid, aid = admin.grants[0].id, admin.id
    resp = post_form(client, f"/admin/utilisateurs/{aid}/roles/{gid}/retirer", {},
                     token_page=f"/admin/utilisateurs/{aid}", follow_redirects=True)
    assert "au moins un administrateur" in resp.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(RoleGrant, gid) is not None


def test_quartier_validation(client, app):
    _admin(client, app)
    with app.app_context():
        commune_id = db.session.execute(select(Quartier.commune_id)).scalars().first()
    base = {"name": "Nouveau", "code": "DEN-09", "commune_id": commune_id, "population": "100"}
    bad = [
        ({"code": "DEN-01"}, "déjà"),
        ({"code": "a b c"}, "code"),
        ({"outline_geojson": "{not json"}, "JSON"),
        ({"outline_geojson": json.dumps({"type": "Point", "coordinates": [3, 50]})}, "Polygon"),
        ({"outline_geojson": json.dumps({"type": "Polygon", "coordinates": [[[3, 50], [3, 51]]]})},
         "coordonnées"),
        ({"commune_id": "999"}, "commune"),
        ({"population": "-5"}, "population"),
    ]
    for override, needle in bad:
        resp = post_form(client, "/admin/quartiers/nouveau", {**base, **override})
        html = resp.get_data(as_text=True)
        assert resp.status_code == 422, override
        assert needle.lower() in html.lower(), (override, needle)
        assert 'value="Nouveau"' in html  # input kept
    ring = [[3.5, 50.3], [3.6, 50.3], [3.6, 50.4], [3.5, 50.3]]
    ok = post_form(client, "/admin/quartiers/nouveau", {
        **base, "is_priority": "y",
        "outline_geojson": json.dumps({"type": "Feature", "geometry": {"type": "Polygon",
                                                                     "coordinates": [ring]}})})
    assert ok.status_code == 302
    data = client.get("/api/v1/quartiers/DEN-09").get_json()
    assert data["is_priority"] and data["outline"]["type"] == "Polygon"


def test_service_and_council_forms(client, app):
    _admin(client, app)
    assert post_form(client, "/admin/services/nouveau", {"name": "Espaces verts",
                                                         "slug": "Espaces Verts!"}).status_code == 422
    assert post_form(client, "/admin/services/nouveau", {"name": "Espaces verts",
                                                         "slug": "espaces-verts"}).status_code == 302
    assert post_form(client, "/admin/conseils/nouveau", {"name": "Conseil DEN-01",
                                                         "quartier_id": ""}).status_code == 302
    assert post_form(client, "/admin/conseils/nouveau", {"name": "Conseil DEN-01",
                                                         "quartier_id": ""}).status_code == 422
