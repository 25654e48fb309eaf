"""Registration, confirmation, login/logout, reset, profile, export, deletion."""

from __future__ import annotations

import json
import re

from sqlalchemy import select

from civic.accounts.models import AuditEntry, User
from civic.extensions import db
from tests.conftest import PASSWORD, login, make_territory, make_user, outbox, post_form


def _register(client, **overrides):
    with client.application.app_context():
        q = db.session.execute(select(__import__("civic.territory.models", fromlist=["Quartier"]).Quartier)).scalars().first()
        qid = q.id if q else make_territory().id
    data = {"email": "Ines@Example.org", "password": PASSWORD, "display_name": "Inès",
            "quartier_id": str(qid), "birth_year": "1990", "gender": "", "accept": "y"}
    data.update(overrides)
    return post_form(client, "/compte/inscription", data)


def _link(body: str) -> str:
    return re.search(r"http://localhost(/\S+)", body).group(1)


def test_register_confirm_login_logout(client, app):
    resp = _register(client)
    assert resp.status_code == 302 and resp.location.endswith("/compte/inscription/verifiez-vos-emails")
    with app.app_context():
        user = db.session.execute(select(User)).scalar_one()
        assert user.email == "ines@example.org" and user.email_confirmed_at is None
        assert user.password_hash and PASSWORD not in user.password_hash
        (mail,) = outbox("ines@example.org")
    # Not confirmed yet: login is refused with a way forward.
    resp = login(client, "ines@example.org")
    assert resp.status_code == 422
    assert "/compte/confirmer" in resp.get_data(as_text=True)
    assert client.get(_link(mail.body)).status_code == 302
    resp = login(client, "INES@example.org")
    assert resp.status_code == 302
    assert "Inès" in client.get("/mon-espace").get_data(as_text=True)
    resp = post_form(client, "/compte/deconnexion", {}, token_page="/mon-espace")
    assert resp.status_code == 302
    assert client.get("/mon-espace").status_code == 302  # back to the login page


def test_logout_invalidates_a_copied_session_cookie(client, app):
    with app.app_context():
        make_user("ines@example.org")
    login(client, "ines@example.org")
    stolen = client.get_cookie("session").value
    post_form(client, "/compte/deconnexion", {}, token_page="/mon-espace")
    other = app.test_client()
    other.set_cookie("session", stolen, domain="localhost")
    assert other.get("/mon-espace").status_code == 302


def test_duplicate_email_is_refused_and_input_kept(client, app):
    with app.app_context():
        make_user("ines@example.org")
    resp = _register(client, email="INES@example.org", display_name="Autre Inès")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "Un compte utilise déjà cette adresse" in html
    assert 'value="Autre Inès"' in html
    with app.app_context():
        assert db.session.query(User).count() == 1


def test_bad_registration_input_gives_clear_errors(client, app):
    resp = _register(client, email="not-an-email", password="short", birth_year="1800",
                     display_name="x" * 500, accept="")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert 'aria-invalid="true"' in html and "error-summary" in html
    with app.app_context():
        assert db.session.query(User).count() == 0


def test_short_password_refused(client, app):
    resp = _register(client, password="abc")
    assert resp.status_code == 422
    assert "au moins 10 caractères" in resp.get_data(as_text=True)


def test_wrong_password_is_throttled(client, app):
    with app.app_context():
        make_user("ines@example.org")
    codes = [login(client, "ines@example.org", "wrong password!").status_code for _ in range(7)]
    assert codes[:5] == [422] * 5
    assert codes[-1] == 429
    assert "Trop de tentatives" in login(client, "ines@example.org").get_data(as_text=True)


def test_password_reset_is_single_use(client, app):
    with app.app_context():
        make_user("ines@example.org")
    post_form(client, "/compte/mot-de-passe-oublie", {"email": "ines@example.org"})
    with app.app_context():
        link = _link(outbox("ines@example.org")[-1].body)
    resp = post_form(client, link, {"password": "a brand new passphrase"})
    assert resp.status_code == 302
    assert client.get(link).status_code == 400  # used: the hash changed
    assert login(client, "ines@example.org", "a brand new passphrase").status_code == 302


def test_reset_for_unknown_email_reveals_nothing(client, app):
    resp = post_form(client, "/compte/mot-de-passe-oublie", {"email": "nobody@example.org"},
                     follow_redirects=True)
    assert resp.status_code == 200
    with app.app_context():
        assert outbox() == []


def test_forged_reset_token_is_refused(client):
    assert client.get("/compte/nouveau-mot-de-passe/forged.token").status_code == 400


def test_profile_edit_and_language(client, app):
    with app.app_context():
        user = make_user("ines@example.org")
        qid = user.quartier_id
    login(client, "ines@example.org")
    resp = post_form(client, "/compte/profil", {"display_name": "Inès B.", "quartier_id": qid,
                                                "birth_year": 1991, "gender": "female",
                                                "locale": "en"})
    assert resp.status_code == 302
    assert "My profile" in client.get("/compte/profil").get_data(as_text=True)


def test_moving_quartier_withdraws_verification(client, app):
    from civic.territory.models import Quartier
    with app.app_context():
        user = make_user("ines@example.org")
        user.residency_verified_at = user.created_at
        db.session.commit()
        other = db.session.execute(select(Quartier).where(Quartier.id != user.quartier_id)).scalars().first()
        other_id = other.id
    login(client, "ines@example.org")
    post_form(client, "/compte/profil", {"display_name": "Inès", "quartier_id": other_id,
                                         "birth_year": 1990})
    with app.app_context():
        assert db.session.execute(select(User)).scalar_one().residency_verified_at is None


def test_export_contains_my_data(client, app):
    with app.app_context():
        make_user("ines@example.org", gender="female")
    login(client, "ines@example.org")
    resp = client.get("/compte/mes-donnees.json")
    assert resp.status_code == 200 and "attachment" in resp.headers["Content-Disposition"]
    data = json.loads(resp.data)
    assert data["account"]["email"] == "ines@example.org"
    assert data["account"]["gender"] == "female"
    assert data["account"]["quartier_code"] == "DEN-01"


def test_delete_account_anonymises(client, app):
    with app.app_context():
        make_user("ines@example.org")
    login(client, "ines@example.org")
    assert post_form(client, "/compte/supprimer", {"password": "wrong", "confirm": "y"}).status_code == 422
    resp = post_form(client, "/compte/supprimer", {"password": PASSWORD, "confirm": "y"})
    assert resp.status_code == 302
    with app.app_context():
        user = db.session.execute(select(User)).scalar_one()
        assert user.email is None and user.password_hash is None
        assert user.display_name == "Compte supprimé" and user.birth_year is None
        assert db.session.execute(select(AuditEntry).where(AuditEntry.action == "account.deleted")).scalar_one()
    assert login(client, "ines@example.org").status_code == 422
    # The address is free again.
    assert _register(client).status_code == 302


def test_change_password_keeps_this_session_and_ends_others(client, app):
    with app.app_context():
        make_user("ines@example.org")
    other = app.test_client()
    login(other, "ines@example.org")
    login(client, "ines@example.org")
    resp = post_form(client, "/compte/mot-de-passe",
                     {"current_password": PASSWORD, "password": "another long passphrase"})
    assert resp.status_code == 302
    assert client.get("/mon-espace").status_code == 200
    assert other.get("/mon-espace").status_code == 302


def test_session_is_renewed_at_login(client, app):
    with app.app_context():
        make_user("ines@example.org")
    client.get("/")
    with client.session_transaction() as sess:
        sess["planted"] = "by an attacker"
    login(client, "ines@example.org")
    with client.session_transaction() as sess:
        assert "planted" not in sess


def test_reset_link_expires_after_an_hour(client, app, monkeypatch):
    import itsdangerous.timed as timed

    with app.app_context():
        make_user("ines@example.org")
    post_form(client, "/compte/mot-de-passe-oublie", {"email": "ines@example.org"})
    with app.app_context():
        link = _link(outbox("ines@example.org")[-1].body)
    real_time = timed.time.time
    monkeypatch.setattr(timed.time, "time", lambda: real_time() + 3601)
    resp = client.get(link)
    assert resp.status_code == 400 and "expiré" in resp.get_data(as_text=True)
