"""The conciergerie de l'emploi: deadline, offers accepted or declined, the board."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from civic.accounts.models import User
from civic.bienveilleurs import services
from civic.bienveilleurs.models import JobOffer, JobRequest
from civic.extensions import db
from civic.timeutil import utcnow
from tests.bienveilleurs.factories import make_job_request
from tests.conftest import login, outbox, post_form


def _job(app, net, author="partner", **kw) -> int:
    with app.test_request_context():
        u = db.session.get(User, net.ids[author])
        return make_job_request(u, u.quartier, **kw).id


def _form(net, **overrides):
    data = {"person_name": "Sarah", "contact": "06 00 00 00 01", "quartier_id": str(net.q),
            "opener": "mission_locale_adviser", "position_kind": "job",
            "start_date": (utcnow().date() + timedelta(days=9)).isoformat(),
            "barrier": "childcare", "note": "deux enfants", "consent": "y"}
    data.update(overrides)
    return data


def test_opening_needs_consent_and_a_future_start_date(app, net, client):
    login(client, net.emails["partner"])
    url = "/conciergerie-emploi/nouvelle"
    resp = post_form(client, url, _form(net, consent=""))
    assert resp.status_code == 422 and "consentement" in resp.get_data(as_text=True)
    resp = post_form(client, url, _form(net, start_date="2001-01-01"))
    assert resp.status_code == 422
    with app.app_context():
        assert db.session.scalar(select(func.count(JobRequest.id))) == 0
    assert post_form(client, url, _form(net)).status_code == 302
    with app.app_context():
        jr = db.session.execute(select(JobRequest)).scalar_one()
        assert jr.opener_interlocutor_id == net.org and jr.status == "ouverte"
        assert "Sarah" not in (jr.person_name_enc or "")


def test_offer_accept_shows_the_person_only_to_the_professional_who_accepts(app, net, client):
    jid = _job(app, net, author="coordinator")
    coord = app.test_client()
    login(coord, net.emails["coordinator"])
    page = f"/conciergerie-emploi/{jid}"
    resp = post_form(coord, f"{page}/proposer", {"interlocutor_ids": ["999999"]},
                     token_page=page, follow_redirects=True)
    assert "Choisissez un interlocuteur dans la liste" in resp.get_data(as_text=True)
    post_form(coord, f"{page}/proposer",
              {"interlocutor_ids": [str(net.org), str(net.other_org)]}, token_page=page)
    with app.app_context():
        jr = db.session.get(JobRequest, jid)
        assert jr.status == "proposee" and len(jr.offers) == 2
        mail = outbox("ccas@example.org")[-1]
        assert "Sarah" not in mail.body and "/conciergerie-emploi" in mail.body
        offer_id = next(o.id for o in jr.offers if o.interlocutor_id == net.org)
    login(client, net.emails["partner"])
    resp = client.get(page)
    summary = resp.get_data(as_text=True)
    assert resp.status_code == 200, summary[-2000:]
    assert f"n° {jid}" in summary and "Garde d'enfants" in summary
    assert "Sarah Secret" not in summary and "sarah.secret@" not in summary
    # Another organisation's staff cannot answer this offer.
    other = app.test_client()
    login(other, net.emails["partner2"])
    resp = post_form(other, f"/conciergerie-emploi/offres/{offer_id}", {"answer": "accept"},
                     token_page="/conciergerie-emploi")
    assert resp.status_code == 403
    resp = post_form(client, f"/conciergerie-emploi/offres/{offer_id}", {"answer": "accept"},
                     token_page="/conciergerie-emploi")
    assert resp.status_code == 302
    assert "Sarah Secret" in client.get(page).get_data(as_text=True)
    with app.app_context():
        jr = db.session.get(JobRequest, jid)
        assert jr.status == "acceptee" and jr.interlocutor_id == net.org
        assert jr.first_answer_at is not None
        answers = {o.interlocutor_id: o.answer for o in jr.offers}
        assert answers == {net.org: "accepted", net.other_org: "withdrawn"}
    # The other organisation, whose offer was withdrawn, no longer sees even the summary.
    assert other.get(page).status_code == 403
    resp = post_form(client, f"{page}/cloturer", {"outcome": "started"}, token_page=page)
    with app.app_context():
        jr = db.session.get(JobRequest, jid)
        assert jr.status == "close" and jr.outcome == "started"
        assert [t.to_status for t in jr.transitions] == ["ouverte", "proposee", "acceptee",
                                                         "close"]


def test_decline_keeps_the_request_offered(app, net):
    jid = _job(app, net, author="coordinator")
    with app.test_request_context():
        jr = db.session.get(JobRequest, jid)
        coord = db.session.get(User, net.ids["coordinator"])
        services.offer_job_request(coord, jr, [net.org])
        services.answer_offer(db.session.get(User, net.ids["partner"]), jr.offers[0], False)
        assert jr.status == "proposee" and jr.first_answer_at is not None
        with pytest.raises(services.BienveilleursError):
            services.answer_offer(db.session.get(User, net.ids["partner"]), jr.offers[0], True)
        db.session.rollback()


def test_board_measures_first_answer_against_the_target_and_flags_risk(app, net, client):
    soon = _job(app, net, author="coordinator",
                start_date=utcnow().date() + timedelta(days=2))
    answered = _job(app, net, author="coordinator",
                    start_date=utcnow().date() + timedelta(days=30))
    waiting = _job(app, net, author="coordinator",
                   start_date=utcnow().date() + timedelta(days=30))
    with app.test_request_context():
        coord = db.session.get(User, net.ids["coordinator"])
        partner = db.session.get(User, net.ids["partner"])
        for jid in (answered, waiting):
            jr = db.session.get(JobRequest, jid)
            jr.created_at -= timedelta(hours=72)
            services.offer_job_request(coord, jr, [net.org])
        offer = db.session.execute(select(JobOffer).where(JobOffer.request_id == answered)
                                   ).scalar_one()
        services.answer_offer(partner, offer, True)
        db.session.commit()
        board = services.conciergerie_board()
        rows = {r.id: r for r in board.rows}
        assert rows[soon].at_risk and not rows[soon].late_answer
        assert rows[answered].hours_to_first_answer == pytest.approx(72, abs=1)
        assert rows[answered].late_answer and not rows[answered].at_risk  # accepted
        assert rows[waiting].late_answer and rows[waiting].at_risk
        assert board.answered == 1 and board.within_target == 0 and board.at_risk == 2
    login(client, net.emails["coordinator"])
    html = client.get("/conciergerie-emploi/tableau").get_data(as_text=True)
    assert f"n° {soon}" in html and "Sarah" not in html


def test_closed_requests_are_purged_after_the_retention_period(app, net, runner):
    jid = _job(app, net, author="coordinator")
    with app.test_request_context():
        jr = db.session.get(JobRequest, jid)
        services.close_job_request(db.session.get(User, net.ids["coordinator"]), jr,
                                   "withdrawn")
        jr.closed_at -= timedelta(days=app.config["CIVIC_REFERRAL_RETENTION_DAYS"] + 1)
        db.session.commit()
    assert "purged: 1" in runner.invoke(args=["bienveilleurs", "purge"]).output
    assert "purged: 0" in runner.invoke(args=["bienveilleurs", "purge"]).output
    with app.app_context():
        jr = db.session.get(JobRequest, jid)
        assert jr.person_name_enc is jr.contact_enc is jr.note_enc is None
        assert (jr.status, jr.outcome, jr.barrier) == ("close", "withdrawn", "childcare")


def test_the_open_data_document_lists_the_statistics(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert "/bienveilleurs/statistics" in doc["paths"]
    assert "BienveilleursStatistics" in doc["components"]["schemas"]


def test_requests_at_risk_are_reminded_once_per_status_without_personal_data(app, net,
                                                                             runner):
    soon = _job(app, net, author="coordinator",
                start_date=utcnow().date() + timedelta(days=2))
    calm = _job(app, net, author="coordinator",
                start_date=utcnow().date() + timedelta(days=30))
    with app.test_request_context():
        coord = db.session.get(User, net.ids["coordinator"])
        services.offer_job_request(coord, db.session.get(JobRequest, soon), [net.org])
        db.session.commit()
        before = {k: len(outbox(net.emails[k])) for k in ("coordinator", "partner")}
    first = runner.invoke(args=["bienveilleurs", "remind"])
    assert first.exit_code == 0 and "conciergerie reminders sent: 1" in first.output
    assert "conciergerie reminders sent: 0" in runner.invoke(
        args=["bienveilleurs", "remind"]).output
    with app.app_context():
        # The coordinator who opened it, and the organisation asked to answer.
        for key in ("coordinator", "partner"):
            mails = outbox(net.emails[key])[before[key]:]
            assert len(mails) == 1 and f" {soon} " in f" {mails[0].subject} ", key
            assert "Sarah" not in mails[0].body and "secret" not in mails[0].body.lower()
        assert (None, "reminder", "proposee") in [
            (e.actor_id, e.action, e.detail) for e in services.access_log("job", soon)]
        assert not any(e.action == "reminder" for e in services.access_log("job", calm))
        # A new status is a new chance to be reminded, if still at risk.
        jr = db.session.get(JobRequest, soon)
        jr.status_changed_at = utcnow() + timedelta(seconds=1)
        db.session.commit()
    assert "conciergerie reminders sent: 1" in runner.invoke(
        args=["bienveilleurs", "remind"]).output
