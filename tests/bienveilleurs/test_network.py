"""Applying to the network, the charter, validation and suspension; the directory."""

from __future__ import annotations

from sqlalchemy import func, select

from civic.accounts.models import User
from civic.bienveilleurs.models import Interlocutor, NetworkMember
from civic.extensions import db
from tests.bienveilleurs.factories import make_interlocutor
from tests.conftest import login, outbox, post_form


def _apply(client, net, **overrides):
    data = {"member_type": "commercant", "quartier_id": str(net.q), "languages": "arabe",
            "availability": "le samedi", "topics": ["isolation", "newcomer"], "charter": "y"}
    data.update(overrides)
    return post_form(client, "/bienveilleurs/candidature", data)


def test_the_charter_must_be_signed(app, net, client):
    login(client, net.emails["resident"])
    resp = _apply(client, net, charter="")
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert "vous devez signer sa charte" in html and 'value="arabe"' in html
    with app.app_context():
        assert db.session.scalar(select(func.count(NetworkMember.id))) == 0


def test_apply_validate_suspend_reinstate(app, net, client):
    login(client, net.emails["resident"])
    assert _apply(client, net).status_code == 302
    with app.app_context():
        member = db.session.execute(select(NetworkMember)).scalar_one()
        assert member.status == "candidate" and member.charter_version
        assert member.topic_list == ["isolation", "newcomer"]
        assert outbox(net.emails["coordinator"])
        mid = member.id
    assert client.get("/bienveilleurs/mon-espace").status_code == 403
    coord = app.test_client()
    login(coord, net.emails["coordinator"])
    page = "/bienveilleurs/coordination/membres"
    assert "arabe" in coord.get(page).get_data(as_text=True)
    post_form(coord, f"{page}/{mid}", {"action": "validate"}, token_page=page)
    with app.app_context():
        resident = db.session.get(User, net.ids["resident"])
        assert resident.has_role("bienveilleur")
        assert any("guide" in m.body for m in outbox(net.emails["resident"]))
    assert client.get("/bienveilleurs/mon-espace").status_code == 200
    post_form(coord, f"{page}/{mid}", {"action": "suspend"}, token_page=page)
    with app.app_context():
        assert not db.session.get(User, net.ids["resident"]).has_role("bienveilleur")
        assert db.session.get(NetworkMember, mid).status == "suspended"
    assert client.get("/bienveilleurs/mon-espace").status_code == 403
    post_form(coord, f"{page}/{mid}", {"action": "reinstate"}, token_page=page)
    with app.app_context():
        assert db.session.get(User, net.ids["resident"]).has_role("bienveilleur")
    # An impossible decision is refused, not applied.
    resp = post_form(coord, f"{page}/{mid}", {"action": "refuse"}, token_page=page,
                     follow_redirects=True)
    with app.app_context():
        assert db.session.get(NetworkMember, mid).status == "active"
    assert resp.status_code == 200


def test_public_directory_shows_only_organisations_that_agreed(app, net, client):
    html = client.get("/bienveilleurs/annuaire").get_data(as_text=True)
    assert "CCAS de Denain" in html and "Mission locale" not in html
    login(client, net.emails["coordinator"])
    html = client.get("/bienveilleurs/annuaire").get_data(as_text=True)
    assert "Mission locale" in html  # coordinators see every organisation


def test_directory_search_by_need_and_quartier(app, net, client):
    with app.app_context():
        make_interlocutor(None, name="Maison de santé", kind="health", topics=["health"])
    html = client.get("/bienveilleurs/annuaire?need=health").get_data(as_text=True)
    assert "Maison de santé" in html and "CCAS de Denain" not in html
    # The CCAS serves one quartier; the maison de santé serves everywhere.
    html = client.get(f"/bienveilleurs/annuaire?quartier={net.other_q}").get_data(as_text=True)
    assert "Maison de santé" in html and "CCAS de Denain" not in html
    html = client.get("/bienveilleurs/annuaire?quartier=abc&need=zzz").get_data(as_text=True)
    assert "CCAS de Denain" in html  # bad filters are ignored, not an error


def test_printable_sheet_per_quartier(app, net, client):
    resp = client.get(f"/bienveilleurs/annuaire/{net.q}/fiche")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and html.count("<h1") == 1
    assert "CCAS de Denain" in html and "03 53 01 00 01" in html
    assert client.get("/bienveilleurs/annuaire/999999/fiche").status_code == 404


def test_interlocutor_form_refuses_unknown_quartiers_and_keeps_input(app, net, client):
    login(client, net.emails["coordinator"])
    url = "/bienveilleurs/coordination/interlocuteurs/nouveau"
    resp = post_form(client, url, {"name": "Épicerie solidaire", "kind": "association",
                                   "topics": ["isolation"], "quartier_ids": ["999999"]})
    assert resp.status_code == 422 and "Épicerie solidaire" in resp.get_data(as_text=True)
    resp = post_form(client, url, {"name": "Épicerie solidaire", "kind": "association",
                                   "topics": ["isolation"], "quartier_ids": [str(net.q)],
                                   "is_public": "y", "is_active": "y"})
    assert resp.status_code == 302
    with app.app_context():
        org = db.session.execute(select(Interlocutor).where(
            Interlocutor.name == "Épicerie solidaire")).scalar_one()
        assert [q.id for q in org.quartiers] == [net.q] and org.is_public


def test_coverage_shows_gaps(app, net, client):
    login(client, net.emails["coordinator"])
    html = client.get("/bienveilleurs/coordination/couverture").get_data(as_text=True)
    # The CCAS covers isolation in its quartier; nobody covers housing anywhere.
    assert 'class="gap"' in html
    from civic.bienveilleurs.services import network_coverage

    with app.app_context():
        cov = network_coverage()
        gaps = {(q.id, n) for q, n in cov.gaps}
        assert (net.q, "housing") in gaps and (net.q, "isolation") not in gaps
        assert (net.other_q, "isolation") in gaps


def test_every_code_fits_its_column():
    """SQLite ignores VARCHAR lengths; PostgreSQL refuses a code longer than its column."""
    from civic.bienveilleurs import models as m
    from civic.bienveilleurs import states as s

    pairs = [(m.NetworkMember.member_type, s.MEMBER_TYPES),
             (m.NetworkMember.status, s.MEMBER_STATUSES),
             (m.Interlocutor.kind, s.INTERLOCUTOR_KINDS),
             (m.Referral.origin, s.ORIGINS), (m.Referral.need, s.NEEDS),
             (m.Referral.urgency, s.URGENCIES), (m.Referral.consent, s.CONSENTS),
             (m.Referral.status, s.REFERRAL_STATUSES),
             (m.Referral.outcome, s.REFERRAL_OUTCOMES),
             (m.JobRequest.opener, s.OPENERS), (m.JobRequest.barrier, s.BARRIERS),
             (m.JobRequest.position_kind, s.POSITION_KINDS),
             (m.JobRequest.status, s.JOB_STATUSES), (m.JobRequest.outcome, s.JOB_OUTCOMES),
             (m.JobOffer.answer, s.OFFER_ANSWERS), (m.AccessLogEntry.action, s.ACCESS_ACTIONS)]
    for column, codes in pairs:
        assert max(map(len, codes)) <= column.type.length, column


def test_coverage_map_shades_each_quartier_by_its_gaps(app, net, client):
    import json

    from civic.territory.models import Quartier

    with app.app_context():
        for n, qid in enumerate((net.q, net.other_q)):
            ring = [[3.39 + n / 50, 50.33], [3.40 + n / 50, 50.33], [3.40 + n / 50, 50.34],
                    [3.39 + n / 50, 50.34], [3.39 + n / 50, 50.33]]
            db.session.get(Quartier, qid).outline_geojson = json.dumps(
                {"type": "Polygon", "coordinates": [ring]})
        db.session.commit()
        from civic.bienveilleurs.services import network_coverage

        cov = network_coverage()
        per_q = {q.id: sum(1 for g, _n in cov.gaps if g.id == q.id) for q in cov.quartiers}
        name = db.session.get(Quartier, net.q).name
    login(client, net.emails["coordinator"])
    html = client.get("/bienveilleurs/coordination/couverture").get_data(as_text=True)
    assert 'role="img"' in html and html.count('class="map-area gaps-') == 2
    assert f"class=\"map-area gaps-{min(per_q[net.q], 2)}\"" in html
    assert f"{name} : {per_q[net.q]} " in html or f"{name}: {per_q[net.q]} " in html
    # Without outlines, the table alone (no empty drawing).
    with app.app_context():
        for qid in (net.q, net.other_q):
            db.session.get(Quartier, qid).outline_geojson = None
        db.session.commit()
    assert 'role="img"' not in client.get(
        "/bienveilleurs/coordination/couverture").get_data(as_text=True)
