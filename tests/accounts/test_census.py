"""Residency verification: census CSV import (all or nothing) and in person."""

from __future__ import annotations

from io import BytesIO

from sqlalchemy import select

from civic.accounts.models import AuditEntry, CensusEntry, User
from civic.extensions import db
from tests.conftest import login, make_user, outbox, post_form


def _import(client, content: bytes, name="census.csv"):
    return post_form(client, "/coordination/recensement",
                     {"file": (BytesIO(content), name)}, content_type="multipart/form-data")


def _coordinator(client, app):
    with app.app_context():
        make_user("ines@example.org")
        make_user("coord@example.org", roles=("admin", "coordinator"))
    login(client, "coord@example.org")


def test_good_census_verifies_matching_residents(client, app):
    _coordinator(client, app)
    resp = _import(client, b"email;quartier_code;birth_year\r\nINES@example.org;den-01;1990\r\n"
                           b"later@example.org;DEN-03;\r\n")
    assert resp.status_code == 200, resp.get_data(as_text=True)
    with app.app_context():
        ines = db.session.execute(select(User).where(User.email == "ines@example.org")).scalar_one()
        assert ines.residency_method == "census"
        assert db.session.query(CensusEntry).count() == 2
        entry = db.session.execute(select(CensusEntry)).scalars().first()
        assert "@" not in entry.email_digest  # only a keyed hash is stored
        assert db.session.execute(select(AuditEntry).where(AuditEntry.action == "census.imported")).scalar_one()


def test_census_with_errors_imports_nothing_and_names_lines(client, app):
    _coordinator(client, app)
    resp = _import(client, b"email;quartier_code;birth_year\nines@example.org;DEN-01;1990\n"
                           b"not-an-email;DEN-01;1990\nx@example.org;NOPE;1990\n"
                           b"ines@example.org;DEN-01;1990\ny@example.org;DEN-01;abc\n"
                           b"only-one-column\n")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    for line in (3, 4, 5, 6, 7):
        assert f"Ligne {line}" in html, line
    with app.app_context():
        assert db.session.query(CensusEntry).count() == 0
        assert db.session.execute(select(User).where(User.email == "ines@example.org")).scalar_one().residency_verified_at is None


def test_census_wrong_format(client, app):
    _coordinator(client, app)
    assert _import(client, b"\xff\xfe\x00binary").status_code == 422
    resp = _import(client, b"name,age\nbob,3\n")
    assert resp.status_code == 422 and "quartier_code" in resp.get_data(as_text=True)
    assert _import(client, b"").status_code == 422


def test_registration_after_census_is_verified_on_confirmation(client, app):
    _coordinator(client, app)
    _import(client, b"email,quartier_code\nnew@example.org,DEN-01\n")
    with app.app_context():
        from civic.accounts import services
        from civic.territory.models import Quartier
        q = db.session.execute(select(Quartier).where(Quartier.code == "DEN-01")).scalar_one()
        with app.test_request_context():
            user = services.register_resident(email="new@example.org", password="a long passphrase",
                                              display_name="New", quartier_id=q.id,
                                              birth_year=1980, gender=None)
            db.session.commit()
            token = outbox("new@example.org")[-1].body.split("/compte/confirmer/")[1].split()[0]
            services.confirm_email(token)
            db.session.commit()
            assert db.session.get(User, user.id).residency_method == "census"


def test_verify_in_person(client, app):
    _coordinator(client, app)
    html = client.get("/coordination/residents?q=ines").get_data(as_text=True)
    assert "Ines" in html
    with app.app_context():
        uid = db.session.execute(select(User.id).where(User.email == "ines@example.org")).scalar_one()
    resp = post_form(client, f"/coordination/residents/{uid}/verifier", {"q": "ines"},
                     token_page="/coordination/residents?q=ines")
    assert resp.status_code == 302
    with app.app_context():
        assert db.session.get(User, uid).residency_method == "in_person"


def test_assisted_registration_is_logged_and_resident_told(client, app):
    with app.app_context():
        make_user("agent@example.org", roles=("admin", "coordinator"))
        from civic.territory.models import Quartier
        qid = db.session.execute(select(Quartier.id)).scalars().first()
    login(client, "agent@example.org")
    resp = post_form(client, "/guichet/inscrire", {"display_name": "Mme Martin",
                                                   "email": "martin@example.org",
                                                   "quartier_id": qid, "birth_year": 1948,
                                                   "consent": "y"})
    assert resp.status_code == 302
    receipt = client.get(resp.location).get_data(as_text=True)
    assert "Mme Martin" in receipt
    with app.app_context():
        subjects = [m.subject for m in outbox("martin@example.org")]
        assert len(subjects) == 2  # told of the act, and a link to choose a password
    # Without an email the account is still created; the printed receipt is the notice.
    resp = post_form(client, "/guichet/inscrire", {"display_name": "M. Durand", "email": "",
                                                   "quartier_id": qid, "birth_year": 1950,
                                                   "consent": "y"})
    assert resp.status_code == 302
    assert "M. Durand" in client.get("/guichet").get_data(as_text=True)
