"""Councils: collèges and rules, volunteering, the draw (reproducible, all or nothing),
meetings with convocation and iCal, minutes, avis and questions within one's council."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from civic.accounts.models import RoleGrant
from civic.actionplan import services as actionplan
from civic.councils import services as councils
from civic.councils.models import (
    College,
    CouncilAvis,
    CouncilDraw,
    CouncilMember,
    CouncilQuestion,
    Volunteer,
)
from civic.extensions import db
from tests.conftest import (
    login,
    make_council,
    make_plan,
    make_territory,
    make_user,
    make_volunteers,
    outbox,
    plan_action,
    post_form,
)


@pytest.fixture
def setup(app):
    """A council with its coordinator, a member, and an action of its quartier."""
    with app.app_context():
        q = make_territory()
        council = make_council(q)
        other = make_council(name="Autre conseil")
        coordinator = make_user("coord@example.org", roles=("coordinator",))
        member = make_user("membre@example.org", roles=(("council_member", council.id),))
        make_user("autre@example.org", roles=(("council_member", other.id),))
        plan = make_plan()
        action = plan_action(plan, "1.1.1")
        actionplan.update_action(coordinator, action, porteur="Ville", partners="",
                                 period_start=None, period_end=None, budget_cents=None,
                                 quartier_ids=[q.id], public_ids=[], tag_ids=[])
        db.session.commit()
        return {"council": council.id, "other": other.id, "action": action.id,
                "outside": plan_action(plan, "2.1").id, "coordinator": coordinator.id,
                "member": member.id}


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


# --- draw ---------------------------------------------------------------------------------


def test_draw_keeps_parity_grants_the_role_and_is_reproducible(app, client, setup):
    with app.app_context():
        council = councils.get_council(setup["council"])
        make_volunteers(council, 3, 4)
    login(client, "coord@example.org")
    resp = post_form(client, f"/conseils-citoyens/{setup['council']}/tirage",
                     {"seats": "4", "seed": "loto-2026-03-01"})
    assert resp.status_code == 302
    with app.app_context():
        the_draw = db.session.execute(select(CouncilDraw)).scalar_one()
        members = the_draw.members
        assert sorted(m.gender for m in members) == ["female", "female", "male", "male"]
        # Anyone can re-run it from the published report, with nothing but SHA-256.
        report = client.get(f"/api/v1/councils/{setup['council']}").get_json()["draws"][0]
        assert report["seed"] == "loto-2026-03-01"
        again = []
        for stratum, seats in report["quotas"].items():
            order = sorted(report["volunteers"][stratum], key=lambda n: hashlib.sha256(
                f"{report['seed']}:{n}".encode()).hexdigest())
            assert order[:seats] == report["drawn"][stratum]
            again += order[:seats]
        assert again == councils.rerun_draw(the_draw)
        drawn_users = {m.user_id for m in members}
        grants = db.session.execute(select(RoleGrant.user_id).where(
            RoleGrant.role == "council_member", RoleGrant.scope_id == setup["council"])
        ).scalars().all()
        assert drawn_users <= set(grants)
        checks = councils.rule_checks(councils.get_council(setup["council"]))
        assert all(c.ok for c in checks)
    page = client.get(f"/conseils-citoyens/tirages/{report['id']}").get_data(as_text=True)
    assert "loto-2026-03-01" in page and report["names"][0] in page
    assert "vol-female-0@example.org" not in page  # no personal data beyond published names


def test_too_few_volunteers_explains_what_is_missing_and_writes_nothing(app, client, setup):
    with app.app_context():
        make_volunteers(councils.get_council(setup["council"]), 3, 1)
        before = (_count(CouncilDraw), _count(CouncilMember), _count(RoleGrant))
    login(client, "coord@example.org")
    resp = post_form(client, f"/conseils-citoyens/{setup['council']}/tirage",
                     {"seats": "4", "seed": "s", "age_bands": ""})
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert "nothing was drawn" in html or "aucun tirage" in html.lower()
    assert "1 volunteers" in html or "1 volontaire" in html or "1 candidat" in html
    with app.app_context():
        assert (_count(CouncilDraw), _count(CouncilMember), _count(RoleGrant)) == before
        assert db.session.scalar(select(func.count()).select_from(Volunteer).where(
            Volunteer.drawn_in_id.is_not(None))) == 0


def test_too_few_in_an_age_band(ctx, setup):
    council = councils.get_council(setup["council"])
    make_volunteers(council, 2, 2)  # born 1950 and 1957: all over 60
    coordinator = db.session.get(__import__("civic.accounts.models",
                                            fromlist=["User"]).User, setup["coordinator"])
    with pytest.raises(councils.CouncilError) as info:
        councils.run_draw(coordinator, council, seats=4, seed="x", age_bands="16-59, 60+",
                          term_end=None)
    assert "16-59" in info.value.message and info.value.field == "seats"


def test_draw_form_refuses_odd_seats_and_bad_bands(app, client, setup):
    login(client, "coord@example.org")
    url = f"/conseils-citoyens/{setup['council']}/tirage"
    assert post_form(client, url, {"seats": "3"}).status_code == 422
    assert post_form(client, url, {"seats": "4", "age_bands": "20-40, 30-50"}).status_code == 422


# --- volunteering -------------------------------------------------------------------------


def test_volunteer_form_explains_gender_and_refuses_non_residents(app, client, setup):
    with app.app_context():
        from civic.territory.models import Quartier

        bellevue = db.session.execute(select(Quartier).where(Quartier.code == "DEN-03")).scalar()
        make_user("ailleurs@example.org", quartier=bellevue)
    login(client, "ailleurs@example.org")
    url = f"/conseils-citoyens/{setup['council']}/candidater"
    page = client.get(url).get_data(as_text=True)
    assert "parit" in page  # why gender is asked
    resp = post_form(client, url, {"published_name": "Moi", "gender": "female"})
    assert resp.status_code == 422
    with app.app_context():
        assert _count(Volunteer) == 0


def test_resident_volunteers_once(app, client, setup):
    login(client, "membre@example.org")
    url = f"/conseils-citoyens/{setup['council']}/candidater"
    assert post_form(client, url, {"published_name": "M.", "gender": "other"}).status_code == 422
    assert post_form(client, url, {"published_name": "M.", "gender": "male"}).status_code == 302
    assert post_form(client, url, {"published_name": "M.", "gender": "male"}).status_code == 422
    with app.app_context():
        assert _count(Volunteer) == 1


# --- members and rules --------------------------------------------------------------------


def test_rules_fail_when_associations_outnumber_residents(ctx, setup):
    council = councils.get_council(setup["council"])
    for name in ("A", "B"):
        councils.add_member(None, council, published_name=name, college="associations",
                            gender=None, organisation="Asso", email=None, term_start=None,
                            term_end=None)
    checks = councils.rule_checks(council)
    assert not checks[0].ok and checks[0].detail == "0 habitants sur 2 membres."
    with pytest.raises(councils.CouncilError) as info:
        councils.add_member(None, council, published_name="C", college="associations",
                            gender=None, organisation="", email=None, term_start=None,
                            term_end=None)
    assert info.value.field == "organisation"


# --- meetings -----------------------------------------------------------------------------


def test_meeting_convocation_ical_and_minutes(app, client, setup):
    with app.app_context():
        council = councils.get_council(setup["council"])
        councils.add_member(None, council, published_name="Nadia", college="habitants",
                            gender="female", organisation="", email="membre@example.org",
                            term_start=None, term_end=None)
        db.session.commit()
    login(client, "coord@example.org")
    day = (councils.today() + timedelta(days=10)).isoformat()
    resp = post_form(client, f"/conseils-citoyens/{setup['council']}/reunions/nouvelle",
                     {"day": day, "time": "18:30", "duration": "90", "location": "Salle 2",
                      "agenda": "1. Budget; 2. Divers"})
    assert resp.status_code == 302
    meeting_url = resp.location
    meeting_id = int(meeting_url.rsplit("/", 1)[1])
    resp = post_form(client, f"/conseils-citoyens/reunions/{meeting_id}/convoquer", {},
                     token_page=meeting_url)
    assert resp.status_code == 302
    with app.app_context():
        mails = [m for m in outbox("membre@example.org") if "Convocation" in m.subject]
        assert len(mails) == 1 and "1. Budget" in mails[0].body
        assert f"/conseils-citoyens/reunions/{meeting_id}.ics" in mails[0].body
    ics = client.get(f"/conseils-citoyens/reunions/{meeting_id}.ics")
    assert ics.mimetype == "text/calendar"
    text = ics.get_data(as_text=True)
    utc = councils.local_to_utc(councils.today() + timedelta(days=10), "18:30")
    assert "BEGIN:VEVENT" in text and f"DTSTART:{utc:%Y%m%dT%H%M%S}Z" in text  # Paris → UTC
    assert "LOCATION:Salle 2" in text and "1. Budget\\; 2. Divers" in text
    feed = client.get(f"/conseils-citoyens/{setup['council']}/calendrier.ics")
    assert feed.get_data(as_text=True).count("BEGIN:VEVENT") == 1
    # Minutes: not public before approval; approval of a future meeting is refused.
    resp = post_form(client, f"/conseils-citoyens/reunions/{meeting_id}/compte-rendu",
                     {"minutes": "Secret draft", "approved": "y"})
    assert resp.status_code == 422
    anonymous = app.test_client()
    assert "Secret draft" not in anonymous.get(meeting_url).get_data(as_text=True)
    api = anonymous.get(f"/api/v1/meetings?council={setup['council']}").get_json()
    assert api["total"] == 1 and api["items"][0]["minutes"] is None


def test_minutes_published_after_approval(app, client, setup):
    with app.app_context():
        council = councils.get_council(setup["council"])
        member = councils.add_member(None, council, published_name="Nadia",
                                     college="habitants", gender="female", organisation="",
                                     email=None, term_start=councils.today() - timedelta(days=30),
                                     term_end=None)
        meeting = councils.schedule_meeting(None, council,
                                            day=councils.today() - timedelta(days=2),
                                            time="18:00", location="Salle", agenda="Ordre")
        db.session.commit()
        meeting_id, member_id = meeting.id, member.id
    login(client, "coord@example.org")
    url = f"/conseils-citoyens/reunions/{meeting_id}"
    assert post_form(client, f"{url}/presences", {"present": str(member_id)}).status_code == 302
    assert post_form(client, f"{url}/presences", {"present": "999"}).status_code == 422
    assert post_form(client, f"{url}/compte-rendu",
                     {"minutes": "Adopté.", "approved": "y"}).status_code == 302
    page = app.test_client().get(url).get_data(as_text=True)
    assert "Adopté." in page
    assert post_form(client, f"{url}/compte-rendu", {"minutes": "Changé"}).status_code == 422


# --- avis and questions -------------------------------------------------------------------


def test_member_gives_avis_and_the_public_sees_it(app, client, setup):
    login(client, "membre@example.org")
    url = f"/conseils-citoyens/{setup['council']}/avis/{setup['action']}"
    resp = post_form(client, url, {"opinion": "reserved", "rating": "4",
                                   "text": "Utile mais mal connue"})
    assert resp.status_code == 302
    page = app.test_client().get(f"/plan-d-action/fiche/{setup['action']}")
    assert "Utile mais mal connue" in page.get_data(as_text=True)
    # A second avis updates the council's avis instead of adding one.
    post_form(client, url, {"opinion": "favourable", "rating": "5", "text": "Mieux"})
    with app.app_context():
        assert _count(CouncilAvis) == 1
    dashboard = client.get(f"/conseils-citoyens/{setup['council']}/suivi")
    assert dashboard.status_code == 200 and "1.1.1" in dashboard.get_data(as_text=True)


def test_member_cannot_act_in_another_council_or_outside_the_quartier(app, client, setup):
    login(client, "autre@example.org")
    url = f"/conseils-citoyens/{setup['council']}/avis/{setup['action']}"
    assert post_form(client, url, {"opinion": "favourable", "rating": "5", "text": "x"},
                     token_page="/").status_code == 403
    assert client.get(f"/conseils-citoyens/{setup['council']}/suivi").status_code == 403
    client.post("/compte/deconnexion", data={})
    login(app.test_client(), "membre@example.org")
    member = app.test_client()
    login(member, "membre@example.org")
    outside = f"/conseils-citoyens/{setup['council']}/avis/{setup['outside']}"
    assert post_form(member, outside, {"opinion": "favourable", "rating": "5", "text": "x"},
                     token_page="/").status_code == 404
    # Forged values: unknown opinion, out-of-range rating, no CSRF token.
    url = f"/conseils-citoyens/{setup['council']}/avis/{setup['action']}"
    assert post_form(member, url, {"opinion": "excellent", "rating": "5",
                                   "text": "x"}).status_code == 422
    assert post_form(member, url, {"opinion": "favourable", "rating": "9",
                                   "text": "x"}).status_code == 422
    assert member.post(url, data={"opinion": "favourable", "rating": "5",
                                  "text": "x"}).status_code == 400
    with app.app_context():
        assert _count(CouncilAvis) == 0
        # The service enforces the scope too, whatever the view does.
        other = db.session.execute(select(__import__(
            "civic.accounts.models", fromlist=["User"]).User).where(
            __import__("civic.accounts.models", fromlist=["User"]).User.email
            == "autre@example.org")).scalar_one()
        with pytest.raises(councils.NotInYourCouncil):
            councils.give_avis(other, councils.get_council(setup["council"]),
                               actionplan.get_action(setup["action"]), opinion="favourable",
                               rating=5, text="x")


def test_question_answered_by_coordination_is_public(app, client, setup):
    login(client, "membre@example.org")
    url = f"/conseils-citoyens/{setup['council']}/questions/{setup['action']}"
    assert post_form(client, url, {"text": "Combien de jeunes ?"}).status_code == 302
    coord = app.test_client()
    login(coord, "coord@example.org")
    assert "Combien de jeunes ?" in coord.get("/conseils-citoyens/questions").get_data(
        as_text=True)
    with app.app_context():
        qid = db.session.execute(select(CouncilQuestion.id)).scalar_one()
    assert post_form(coord, f"/conseils-citoyens/questions/{qid}",
                     {"answer": "Douze."}).status_code == 302
    page = app.test_client().get(f"/plan-d-action/fiche/{setup['action']}").get_data(
        as_text=True)
    assert "Combien de jeunes ?" in page and "Douze." in page


def test_dashboard_flags_late_indicators_and_stale_actions(ctx, setup):
    council = councils.get_council(setup["council"])
    action = actionplan.get_action(setup["action"])
    indicator = actionplan.add_indicator(None, action, name="Jeunes accompagnés",
                                         unit="personnes", baseline=None, baseline_year=None,
                                         source="")
    year = councils.today().year
    actionplan.record_indicator_value(None, indicator, year=year - 1, target=40, measured=25)
    rows = councils.dashboard(council)
    assert [r.action.id for r in rows] == [setup["action"]]
    assert rows[0].late_indicators == ["Jeunes accompagnés"] and not rows[0].stale
    for value in indicator.values:
        value.recorded_at = value.recorded_at - timedelta(days=400)
    assert councils.dashboard(council)[0].stale


# --- public pages and API -----------------------------------------------------------------


def test_public_pages_and_api_show_published_names_only(app, client, setup):
    with app.app_context():
        council = councils.get_council(setup["council"])
        councils.add_member(None, council, published_name="Sophie G.", college="associations",
                            gender="female", organisation="Centre social",
                            email="membre@example.org", term_start=None, term_end=None)
        db.session.commit()
    page = client.get("/conseils-citoyens").get_data(as_text=True)
    assert "Conseil DEN-01" in page
    page = client.get(f"/conseils-citoyens/{setup['council']}").get_data(as_text=True)
    assert "Sophie G." in page and "membre@example.org" not in page
    data = client.get(f"/api/v1/councils/{setup['council']}").get_json()
    assert data["members"] == {"habitants": 0, "associations": 1}
    assert data["member_list"][0]["name"] == "Sophie G." and "gender" not in data["member_list"][0]
    assert client.get("/api/v1/councils/99999").status_code == 404
    assert client.get("/api/v1/meetings?council=abc").status_code == 400
    listing = client.get("/api/v1/councils").get_json()["items"]
    assert {c["name"] for c in listing} == {"Conseil DEN-01", "Autre conseil"}


def test_demo_is_idempotent_and_its_draw_reruns(app):
    from civic.demo import seed_demo

    with app.app_context():
        first = seed_demo()
        db.session.commit()
        assert first["draws"] == 1 and first["meetings"] == 2 and first["avis"] == 1
        second = seed_demo()
        db.session.commit()
        assert second["draws"] == second["meetings"] == second["avis"] == 0
        the_draw = db.session.execute(select(CouncilDraw)).scalar_one()
        assert councils.rerun_draw(the_draw) == json_drawn(the_draw)
        assert {m.college for m in the_draw.council.members} == set(College)


def json_drawn(the_draw) -> list[int]:
    """The drawn numbers as recorded, in report order."""
    report = councils.draw_report(the_draw)
    return [n for s in report["quotas"] for n in report["drawn"][s]]


def test_yearly_report_of_the_quartier(app, client, setup):
    with app.app_context():
        action = actionplan.get_action(setup["action"])
        indicator = actionplan.add_indicator(None, action, name="Jeunes accompagnés",
                                             unit="personnes", baseline=None,
                                             baseline_year=None, source="")
        actionplan.record_indicator_value(None, indicator, year=2026, target=40, measured=31)
        db.session.commit()
    page = client.get(f"/conseils-citoyens/{setup['council']}/bilan?annee=2026")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Jeunes accompagnés" in html and "31" in html
    assert client.get(f"/conseils-citoyens/{setup['council']}/bilan?annee=3000"
                      ).status_code == 404
    assert client.get(f"/conseils-citoyens/{setup['council']}/bilan?annee=abc"
                      ).status_code == 200
