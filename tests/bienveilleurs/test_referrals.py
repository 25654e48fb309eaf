"""Referrals: encrypted at rest, visible to the people in charge only, every access logged,
one pipeline, reminders and purge."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from civic.accounts.models import User
from civic.bienveilleurs import services
from civic.bienveilleurs.models import AccessLogEntry, Referral, ReferralTransition
from civic.extensions import db
from tests.bienveilleurs.factories import make_referral
from tests.conftest import login, outbox, post_form

SECRETS = ("Jeanne Secret", "06 12 34 56 78", "secret note")


def _user(key, net):
    return db.session.get(User, net.ids[key])


def _referral(app, net, author="bienveilleur", **kw) -> int:
    with app.test_request_context():
        u = _user(author, net)
        return make_referral(u, u.quartier, **kw).id


def _log(app, rid: int) -> list[tuple[int | None, str]]:
    with app.app_context():
        return [(e.actor_id, e.action) for e in services.access_log("referral", rid)]


def _advance(app, net, rid: int, *steps: tuple[str, str, dict]) -> None:
    with app.test_request_context():
        r = db.session.get(Referral, rid)
        for who, to, kw in steps:
            if who == "take":
                services.take_referral(_user(to, net), r)
            else:
                services.transition_referral(_user(who, net), r, to, **kw)
        db.session.commit()


def test_personal_fields_hold_no_plaintext_in_the_raw_table(app, net):
    rid = _referral(app, net)
    with app.app_context():
        row = db.session.execute(text("SELECT * FROM referral WHERE id = :i"), {"i": rid}
                                 ).mappings().one()
        raw = " ".join(str(v) for v in row.values())
        for secret in SECRETS:
            assert secret.lower() not in raw.lower()
        assert row["contact_enc"].startswith("gAAAAA")  # a Fernet token
        r = db.session.get(Referral, rid)
        assert services.personal_data(r).contact == "06 12 34 56 78 Secret"


def test_author_reads_it_and_the_read_is_logged(app, net, client):
    rid = _referral(app, net)
    login(client, net.emails["bienveilleur"])
    page = client.get(f"/bienveilleurs/signalements/{rid}").get_data(as_text=True)
    assert "Jeanne Secret" in page and "06 12 34 56 78" in page
    assert (net.ids["bienveilleur"], "read") in _log(app, rid)


@pytest.mark.parametrize("who", ["bienveilleur2", "coordinator2", "partner", "resident",
                                 "council"])
def test_nobody_else_may_read_it_and_the_attempt_is_logged(app, net, client, who):
    rid = _referral(app, net)
    _advance(app, net, rid, ("take", "coordinator", {}))
    login(client, net.emails[who])
    resp = client.get(f"/bienveilleurs/signalements/{rid}")
    assert resp.status_code == 403
    assert "Jeanne" not in resp.get_data(as_text=True)
    assert (net.ids[who], "refused") in _log(app, rid)
    assert rid not in [r.id for r in _visible(app, net, who)]


def _visible(app, net, who):
    with app.app_context():
        return services.visible_referrals(_user(who, net))


def test_a_forged_post_on_someone_elses_referral_is_refused_and_logged(app, net, client,
                                                                        caplog):
    rid = _referral(app, net)
    login(client, net.emails["bienveilleur2"])
    with caplog.at_level(logging.WARNING):
        resp = post_form(client, f"/bienveilleurs/signalements/{rid}/etape",
                         {"to_status": "contacte"}, token_page="/bienveilleurs/signalements")
    assert resp.status_code == 403
    assert (net.ids["bienveilleur2"], "refused") in _log(app, rid)
    with app.app_context():
        assert db.session.get(Referral, rid).status == "signale"
    # The application log says who and which id, never anything about the person.
    assert "refused" in caplog.text
    for secret in SECRETS:
        assert secret not in caplog.text


def test_missing_consent_is_refused_and_nothing_is_saved(app, net, client):
    login(client, net.emails["bienveilleur"])
    resp = post_form(client, "/bienveilleurs/signalements/nouveau", {
        "person_name": "Jeanne", "contact": "06 00 00 00 00", "quartier_id": str(net.q),
        "need": "isolation", "urgency": "normal", "consent": "", "note": "garder ce texte"})
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert "consentement" in html and "garder ce texte" in html
    with app.app_context():
        assert db.session.scalar(select(func.count(Referral.id))) == 0


def test_a_resident_asking_for_themselves_consents_by_asking(app, net, client):
    login(client, net.emails["resident"])
    resp = post_form(client, "/bienveilleurs/signalements/nouveau", {
        "person_name": "Inès", "contact": "06 00 00 00 00", "quartier_id": str(net.q),
        "need": "rights", "urgency": "normal"})
    assert resp.status_code == 302
    with app.app_context():
        r = db.session.execute(select(Referral)).scalar_one()
        assert (r.origin, r.consent, r.author_id) == ("self", "given", net.ids["resident"])
        # Coordinators are told a referral waits, without anything personal.
        mails = outbox(net.emails["coordinator"])
        assert mails and all("Inès" not in m.body and "06 00" not in m.body for m in mails)


def test_the_pipeline_is_dated_attributed_and_reaches_closed(app, net, client):
    rid = _referral(app, net)
    _advance(app, net, rid, ("take", "coordinator", {}),
             ("coordinator", "contacte", {}),
             ("coordinator", "oriente", {"interlocutor_id": net.org}),
             ("partner", "pris_en_charge", {}),
             ("partner", "clos", {"outcome": "supported"}))
    with app.app_context():
        r = db.session.get(Referral, rid)
        steps = [(t.from_status, t.to_status, t.actor_id) for t in r.transitions]
        assert steps == [
            (None, "signale", net.ids["bienveilleur"]),
            ("signale", "contacte", net.ids["coordinator"]),
            ("contacte", "oriente", net.ids["coordinator"]),
            ("oriente", "pris_en_charge", net.ids["partner"]),
            ("pris_en_charge", "clos", net.ids["partner"]),
        ]
        assert all(t.at is not None for t in r.transitions)
        assert r.status == "clos" and r.outcome == "supported" and r.closed_at
        assert r.contacted_at is not None
    # The interlocutor it was handed to can read it, and the other organisation cannot.
    login(client, net.emails["partner"])
    assert client.get(f"/bienveilleurs/signalements/{rid}").status_code == 200


def test_only_the_transition_table_moves_a_referral(app, net):
    rid = _referral(app, net)
    with app.test_request_context():
        r = db.session.get(Referral, rid)
        author = _user("bienveilleur", net)
        with pytest.raises(services.BienveilleursError):
            services.transition_referral(author, r, "clos", outcome="supported")
        # An author may record the contact, but only a coordinator orients.
        services.transition_referral(author, r, "contacte")
        with pytest.raises(services.AccessRefused):
            services.transition_referral(author, r, "oriente", interlocutor_id=net.org)
        db.session.rollback()


def test_not_reachable_path(app, net):
    rid = _referral(app, net)
    _advance(app, net, rid, ("bienveilleur", "injoignable", {}),
             ("take", "coordinator", {}), ("coordinator", "clos", {"outcome": "not_reached"}))
    with app.app_context():
        assert db.session.get(Referral, rid).outcome == "not_reached"


def test_orienting_needs_consent_and_a_known_interlocutor(app, net, client):
    rid = _referral(app, net, consent="to_ask")
    _advance(app, net, rid, ("take", "coordinator", {}))
    login(client, net.emails["coordinator"])
    page = f"/bienveilleurs/signalements/{rid}"
    post_form(client, f"{page}/etape", {"to_status": "contacte"}, token_page=page)
    resp = post_form(client, f"{page}/etape", {"to_status": "oriente",
                                               "interlocutor_id": str(net.org)},
                     token_page=page, follow_redirects=True)
    assert "consentement" in resp.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Referral, rid).status == "contacte"
    # Unknown interlocutor: a clear message, nothing changed.
    _advance(app, net, rid, ("coordinator", "clos", {"outcome": "other"}))
    rid = _referral(app, net, consent="to_ask")
    _advance(app, net, rid, ("take", "coordinator", {}))
    page = f"/bienveilleurs/signalements/{rid}"
    post_form(client, f"{page}/etape", {"to_status": "contacte", "consent_given": "y"},
              token_page=page)
    resp = post_form(client, f"{page}/etape", {"to_status": "oriente",
                                               "interlocutor_id": "999999"},
                     token_page=page, follow_redirects=True)
    assert "Choisissez un interlocuteur dans la liste" in resp.get_data(as_text=True)
    with app.app_context():
        r = db.session.get(Referral, rid)
        assert (r.status, r.consent, r.interlocutor_id) == ("contacte", "given", None)
    resp = post_form(client, f"{page}/etape", {"to_status": "oriente",
                                               "interlocutor_id": str(net.org)},
                     token_page=page)
    with app.app_context():
        assert db.session.get(Referral, rid).status == "oriente"
        mails = outbox("ccas@example.org")
        assert mails and "Jeanne" not in mails[-1].body


def test_an_interlocutor_that_hands_it_back_loses_access(app, net, client):
    rid = _referral(app, net)
    _advance(app, net, rid, ("take", "coordinator", {}), ("coordinator", "contacte", {}),
             ("coordinator", "oriente", {"interlocutor_id": net.org}),
             ("partner", "contacte", {}))
    login(client, net.emails["partner"])
    assert client.get(f"/bienveilleurs/signalements/{rid}").status_code == 403


def test_a_suspended_bienveilleur_no_longer_sees_their_referrals(app, net, client):
    rid = _referral(app, net)
    with app.test_request_context():
        author = _user("bienveilleur", net)
        for grant in [g for g in author.grants if g.role == "bienveilleur"]:
            from civic.accounts.services import revoke_role

            revoke_role(_user("coordinator", net), grant)
        db.session.commit()
    login(client, net.emails["bienveilleur"])
    assert client.get(f"/bienveilleurs/signalements/{rid}").status_code == 403


def test_a_coordinator_sees_the_queue_without_personal_data_then_takes_it(app, net, client):
    rid = _referral(app, net)
    login(client, net.emails["coordinator"])
    queue = client.get("/bienveilleurs/coordination").get_data(as_text=True)
    assert f"n° {rid}" in queue and "Jeanne" not in queue
    resp = post_form(client, f"/bienveilleurs/signalements/{rid}/suivre", {},
                     token_page="/bienveilleurs/coordination")
    assert resp.status_code == 302
    assert "Jeanne Secret" in client.get(f"/bienveilleurs/signalements/{rid}").get_data(
        as_text=True)
    assert (net.ids["coordinator"], "assigned") in _log(app, rid)
    # A second coordinator cannot take it over.
    client2 = app.test_client()
    login(client2, net.emails["coordinator2"])
    resp = post_form(client2, f"/bienveilleurs/signalements/{rid}/suivre", {},
                     token_page="/bienveilleurs/coordination")
    assert resp.status_code == 403
    assert (net.ids["coordinator2"], "refused") in _log(app, rid)
    with app.app_context():
        assert db.session.get(Referral, rid).coordinator_id == net.ids["coordinator"]


def test_reminders_for_stuck_referrals_are_sent_once(app, net, runner):
    rid = _referral(app, net)
    _advance(app, net, rid, ("take", "coordinator", {}))
    with app.app_context():
        r = db.session.get(Referral, rid)
        r.status_changed_at -= timedelta(days=3)
        db.session.commit()
        before = len(outbox(net.emails["coordinator"]))
    first = runner.invoke(args=["bienveilleurs", "remind"])
    assert first.exit_code == 0 and "reminders sent: 1" in first.output
    second = runner.invoke(args=["bienveilleurs", "remind"])
    assert "reminders sent: 0" in second.output
    with app.app_context():
        mails = outbox(net.emails["coordinator"])[before:]
        assert len(mails) == 1 and f"n° {rid}" in mails[0].body
        assert not any(s in mails[0].body for s in SECRETS)


def test_purge_erases_personal_fields_keeps_counts_and_is_idempotent(app, net, runner):
    old = _referral(app, net)
    recent = _referral(app, net)
    still_open = _referral(app, net)
    for rid in (old, recent):
        _advance(app, net, rid, ("take", "coordinator", {}), ("coordinator", "contacte", {}),
                 ("coordinator", "clos", {"outcome": "declined"}))
    with app.app_context():
        r = db.session.get(Referral, old)
        r.closed_at -= timedelta(days=app.config["CIVIC_REFERRAL_RETENTION_DAYS"] + 1)
        db.session.commit()
    first = runner.invoke(args=["bienveilleurs", "purge"])
    assert first.exit_code == 0 and "purged: 1" in first.output
    assert "purged: 0" in runner.invoke(args=["bienveilleurs", "purge"]).output
    with app.app_context():
        r = db.session.get(Referral, old)
        assert r.person_name_enc is r.contact_enc is r.note_enc is None
        assert r.purged_at and r.status == "clos" and r.outcome == "declined"
        assert db.session.get(Referral, recent).contact_enc is not None
        assert db.session.get(Referral, still_open).contact_enc is not None
        assert db.session.scalar(select(func.count(Referral.id))) == 3
        assert db.session.scalar(select(func.count(ReferralTransition.id))) == 7
        assert (None, "purged") in [(e.actor_id, e.action) for e in
                                    services.access_log("referral", old)]
        from datetime import date

        stats = services.network_statistics(date(2000, 1, 1), date(2100, 1, 1))
        code = r.quartier.code
        # Three referrals in the quartier: fewer than 5, so the count stays hidden, but it
        # is still counted (the statistic exists, it is suppressed, not lost).
        assert stats.by_need[code]["total"].value is None
    assert AccessLogEntry  # the log itself is kept


def test_a_referral_whose_coordinator_left_can_be_taken_over(app, net):
    rid = _referral(app, net)
    _advance(app, net, rid, ("take", "coordinator", {}))
    with app.test_request_context():
        from civic.accounts.services import revoke_role

        gone = _user("coordinator", net)
        revoke_role(_user("coordinator2", net),
                    next(g for g in gone.grants if g.role == "coordinator"))
        r = db.session.get(Referral, rid)
        services.take_referral(_user("coordinator2", net), r)
        db.session.commit()
        assert r.coordinator_id == net.ids["coordinator2"]


def test_partner_staff_recording_for_someone_must_state_consent(app, net):
    with app.test_request_context():
        partner = _user("partner", net)
        assert services.referral_origin(partner) == "partner"
        with pytest.raises(services.BienveilleursError):
            make_referral(partner, partner.quartier, consent=None)
        db.session.rollback()


def test_restoring_an_old_backup_reapplies_the_purge(app, net, tmp_path):
    """A backup taken before the retention ran out must not bring the data back."""
    from civic import backup

    rid = _referral(app, net)
    _advance(app, net, rid, ("take", "coordinator", {}), ("coordinator", "contacte", {}),
             ("coordinator", "clos", {"outcome": "declined"}))
    with app.app_context():
        r = db.session.get(Referral, rid)
        r.closed_at -= timedelta(days=app.config["CIVIC_REFERRAL_RETENTION_DAYS"] + 1)
        db.session.commit()
        archive = tmp_path / "old.tar.gz"
        backup.create_backup(archive)  # holds the personal fields, not yet purged
        services.purge_closed()
        db.session.commit()
        backup.restore_backup(archive)
        db.session.expire_all()
        r = db.session.get(Referral, rid)
        assert r.contact_enc is None and r.note_enc is None and r.purged_at is not None
