"""The person's details can be corrected (right to rectification) by the people in charge of
the file only: replaced, encrypted, the correction logged without what it changed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text

from civic.accounts.models import User
from civic.bienveilleurs import services
from civic.bienveilleurs.models import JobRequest, Referral
from civic.extensions import db
from tests.bienveilleurs.factories import make_job_request, make_referral
from tests.conftest import login, post_form


def _referral(app, net) -> int:
    with app.test_request_context():
        author = db.session.get(User, net.ids["bienveilleur"])
        return make_referral(author, author.quartier).id


def _log(app, kind: str, subject_id: int) -> list[tuple[int | None, str, str]]:
    with app.app_context():
        return [(e.actor_id, e.action, e.detail) for e in services.access_log(kind, subject_id)]


def test_the_author_corrects_the_details_and_the_correction_is_logged(app, net, client):
    rid = _referral(app, net)
    login(client, net.emails["bienveilleur"])
    url = f"/bienveilleurs/signalements/{rid}/corriger"
    page = client.get(f"/bienveilleurs/signalements/{rid}").get_data(as_text=True)
    assert url in page  # linked from the file
    form = client.get(url)
    assert form.status_code == 200 and "06 12 34 56 78 Secret" in form.get_data(as_text=True)
    resp = post_form(client, url, {"person_name": "Jeanne", "contact": "07 98 76 54 32",
                                   "note": "Sonner deux fois"})
    assert resp.status_code == 302 and resp.location.endswith(f"/bienveilleurs/signalements/{rid}")
    with app.app_context():
        r = db.session.get(Referral, rid)
        data = services.personal_data(r)
        assert (data.name, data.contact, data.note) == ("Jeanne", "07 98 76 54 32",
                                                        "Sonner deux fois")
        raw = " ".join(str(v) for v in db.session.execute(
            text("SELECT * FROM referral WHERE id = :i"), {"i": rid}).mappings().one().values())
        assert "07 98 76" not in raw and "Secret" not in raw  # encrypted, the old one gone
    log = _log(app, "referral", rid)
    bienveilleur = net.ids["bienveilleur"]
    assert (bienveilleur, "corrected", "") in log
    assert (bienveilleur, "read", "") in log  # showing the form is a read
    assert not any("Jeanne" in detail or "07" in detail for _a, _b, detail in log)


def test_a_bad_correction_keeps_the_input_and_changes_nothing(app, net, client):
    rid = _referral(app, net)
    login(client, net.emails["bienveilleur"])
    url = f"/bienveilleurs/signalements/{rid}/corriger"
    resp = post_form(client, url, {"person_name": "Jeanne", "contact": "0",
                                   "note": "garder ce texte"})
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert "garder ce texte" in html
    with app.app_context():
        assert services.personal_data(db.session.get(Referral, rid)).contact \
            == "06 12 34 56 78 Secret"
    assert not any(action == "corrected" for _a, action, _d in _log(app, "referral", rid))


@pytest.mark.parametrize("who", ["bienveilleur2", "coordinator2", "partner", "resident"])
def test_nobody_else_may_correct_and_the_attempt_is_logged(app, net, client, who):
    rid = _referral(app, net)
    login(client, net.emails[who])
    url = f"/bienveilleurs/signalements/{rid}/corriger"
    resp = client.get(url)
    assert resp.status_code == 403 and "Jeanne" not in resp.get_data(as_text=True)
    resp = post_form(client, url, {"person_name": "X", "contact": "00 00 00 00 00"},
                     token_page="/bienveilleurs/signalements")
    assert resp.status_code == 403
    with app.app_context():
        assert services.personal_data(db.session.get(Referral, rid)).name == "Jeanne Secret"
    assert (net.ids[who], "refused", "correct") in _log(app, "referral", rid)


def test_erased_details_cannot_be_corrected(app, net, client):
    rid = _referral(app, net)
    with app.app_context():
        r = db.session.get(Referral, rid)
        r.person_name_enc = r.contact_enc = r.note_enc = None
        r.purged_at = r.created_at + timedelta(days=400)
        db.session.commit()
    login(client, net.emails["bienveilleur"])
    url = f"/bienveilleurs/signalements/{rid}/corriger"
    page = client.get(url).get_data(as_text=True)
    assert 'name="person_name"' not in page and ("effacées" in page or "erased" in page)
    post_form(client, url, {"person_name": "Jeanne", "contact": "07 98 76 54 32"})
    with app.app_context():
        assert db.session.get(Referral, rid).person_name_enc is None


def test_a_conciergerie_request_is_corrected_by_those_in_charge_not_by_an_offer(app, net,
                                                                              client):
    with app.test_request_context():
        author = db.session.get(User, net.ids["partner"])
        jid = make_job_request(author, author.quartier).id
        jr = db.session.get(JobRequest, jid)
        services.take_job_request(db.session.get(User, net.ids["coordinator"]), jr)
        db.session.commit()
    url = f"/conciergerie-emploi/{jid}/corriger"
    login(client, net.emails["coordinator"])
    assert url in client.get(f"/conciergerie-emploi/{jid}").get_data(as_text=True)
    resp = post_form(client, url, {"person_name": "Sarah", "contact": "sarah@example.org",
                                   "note": "Un enfant"})
    assert resp.status_code == 302
    with app.app_context():
        data = services.personal_data(db.session.get(JobRequest, jid))
        assert (data.name, data.contact, data.note) == ("Sarah", "sarah@example.org",
                                                        "Un enfant")
    assert (net.ids["coordinator"], "corrected", "") in _log(app, "job", jid)
