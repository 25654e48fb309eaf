"""The role × route matrix, built from app.url_map: a view without a decision fails here."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from civic.accounts.models import RoleGrant, User
from civic.extensions import db
from civic.permissions import PERMISSIONS, PUBLIC, ROLES, access_of
from civic.territory.models import CityService, Commune
from tests.bienveilleurs.factories import make_interlocutor, make_pipeline
from tests.conftest import PASSWORD, csrf_from, make_plan, make_territory, make_user, plan_action

ANON = "anonymous"
ROLE_NAMES = [ANON, *ROLES]

# Who may use each endpoint. Every endpoint of the app must be listed here.
P = "public"
EXPECTED: dict[str, str | frozenset[str]] = {
    "core.index": P, "core.budget": P, "core.action_plan": P, "core.councils": P,
    "core.bienveilleurs": P, "core.quartiers": P, "core.accessibility": P, "core.privacy": P,
    "core.set_language": P,
    "accounts.register": P, "accounts.check_email": P, "accounts.confirm": P,
    "accounts.resend_confirmation": P, "accounts.login": P, "accounts.forgot_password": P,
    "accounts.reset_password": P,
    "accounts.logout": frozenset(ROLES), "accounts.profile": frozenset(ROLES),
    "accounts.change_password": frozenset(ROLES), "accounts.export": frozenset(ROLES),
    "accounts.delete": frozenset(ROLES),
    "spaces.dashboard": frozenset(ROLES),
    "spaces.agent": frozenset({"agent"}),
    "spaces.counter": frozenset({"agent", "coordinator"}),
    "spaces.counter_register": frozenset({"agent", "coordinator"}),
    "spaces.counter_receipt": frozenset({"agent", "coordinator"}),
    "spaces.council": frozenset({"council_member"}),
    "spaces.bienveilleur": frozenset({"bienveilleur"}),
    "spaces.coordination": frozenset({"coordinator"}),
    "spaces.census_import": frozenset({"coordinator"}),
    "spaces.residents": frozenset({"coordinator"}),
    "spaces.verify_resident": frozenset({"coordinator"}),
    **{f"admin.{e}": frozenset({"admin"}) for e in (
        "index", "users", "user", "revoke", "territory_index", "commune", "quartier",
        "services", "service", "councils", "council", "audit_log", "outbox")},
    "api.openapi": P, "api.communes": P, "api.quartiers": P, "api.quartier": P,
    "actionplan.plan": P, "actionplan.node": P, "actionplan.export_csv": P,
    "actionplan.report": P, "actionplan.report_csv": P,
    **{f"actionplan.{e}": frozenset({"coordinator", "admin"}) for e in (
        "edit_action", "add_indicator", "import_csv")},
    # Porteurs update their own actions (the world's porteur owns the world's action; the
    # 403 on other actions is in tests/actionplan/test_porteur.py).
    **{f"actionplan.{e}": frozenset({"coordinator", "admin", "porteur"}) for e in (
        "change_status", "record_value", "record_participation")},
    "actionplan.my_actions": frozenset({"porteur"}),
    "api.plans": P, "api.plan": P, "api.action": P,
    # Bienveilleurs: anonymous visitors see the network, the public directory and how to
    # join; council members see statistics only; referrals and conciergerie requests are
    # further checked per object, so only the people in charge of the world's referral
    # (its author, its coordinator, the interlocutor it was handed to) may open it.
    "bienveilleurs.index": P, "bienveilleurs.join": P, "bienveilleurs.directory": P,
    "bienveilleurs.sheet": P, "api.bienveilleurs_statistics": P,
    **{f"bienveilleurs.{e}": frozenset(ROLES) for e in (
        "apply", "referrals", "referral_new", "job_requests", "job_new")},
    "bienveilleurs.space": frozenset({"bienveilleur"}),
    **{f"bienveilleurs.{e}": frozenset({"coordinator"}) for e in (
        "members", "member_decide", "interlocutor_edit", "coverage", "coordination",
        "referral_take", "job_take", "job_board", "statistics_revise")},
    "bienveilleurs.statistics": frozenset({"coordinator", "council_member", "admin"}),
    "bienveilleurs.referral": frozenset({"bienveilleur", "coordinator", "interlocutor"}),
    "bienveilleurs.referral_step": frozenset({"bienveilleur", "coordinator", "interlocutor"}),
    "bienveilleurs.referral_correct": frozenset({"bienveilleur", "coordinator", "interlocutor"}),
    **{f"bienveilleurs.{e}": frozenset({"coordinator", "interlocutor"}) for e in (
        "job_request", "job_offer", "job_close", "job_correct")},
    "bienveilleurs.job_answer": frozenset({"interlocutor"}),
    "api.campaigns": P, "api.campaign": P, "api.campaign_proposals": P,
    # Vote results (issue 5).
    "api.campaign_results": P, "api.campaign_ballots": P,
    **{f"results.{e}": P for e in ("results", "download_csv", "download_json",
                                   "download_pabulib", "ballots", "check_ballot",
                                   "open_data_bundle")},
    **{f"results.{e}": frozenset({"coordinator", "admin"}) for e in ("recount", "publish")},
    # Participatory budget (issue 4).
    **{f"budgeting.{e}": P for e in ("campaigns", "campaign", "proposals", "proposal", "image")},
    **{f"budgeting.{e}": frozenset({"coordinator", "admin"}) for e in (
        "campaign_new", "campaign_edit", "campaign_close_phase", "moderation", "moderate",
        "merge", "comment_queue", "comment_moderate")},
    **{f"budgeting.{e}": frozenset(ROLES) for e in (
        "proposal_new", "proposal_edit", "proposal_submit", "proposal_withdraw", "image_delete",
        "comment", "follow", "flag", "answer", "my_space", "notifications_read",
        "comment_report")},
    "budgeting.assisted_proposal": frozenset({"agent", "coordinator"}),
    **{f"review.{e}": frozenset({"coordinator", "admin"}) for e in (
        "assignment", "assign", "publication", "send_back", "reopen")},
    "review.queue": frozenset({"agent"}), "review.verdict": frozenset({"agent"}),
    "review.dashboard": frozenset({"agent", "coordinator", "admin"}),
    # The vote (issue 5): anyone sees the vote page (it says why they cannot vote, or asks
    # them to log in); every signed-in account may build, review, confirm and change.
    "voting.vote_page": P,
    **{f"voting.{e}": frozenset(ROLES) for e in ("ballot", "review", "confirm", "change")},
    **{f"councils.{e}": P for e in ("council", "draw", "meeting", "meeting_ics", "calendar",
                                    "report")},
    "councils.apply": frozenset(ROLES),
    # The porteur answers the councils' questions on their actions (the world's question is
    # on the world porteur's action).
    **{f"councils.{e}": frozenset({"porteur"}) for e in ("porteur_questions", "porteur_answer")},
    **{f"councils.{e}": frozenset({"coordinator", "admin"}) for e in (
        "manage", "add_member", "end_member", "run_draw", "new_meeting", "convene",
        "attendance", "minutes", "questions", "answer")},
    **{f"councils.{e}": frozenset({"council_member"}) for e in (
        "dashboard", "give_avis", "ask")},
    "api.councils_list": P, "api.council": P, "api.meetings": P, "api.calls": P,
    "cycle.calls": P, "cycle.call": P, "cycle.apply": frozenset(ROLES),
    **{f"cycle.{e}": frozenset({"coordinator", "admin"}) for e in (
        "new_call", "decide", "evaluate")},
    "cycle.application_avis": frozenset({"council_member"}),
    # Voting desk (issue 5): agents of the campaign's desk; coordination reconciles paper
    # sheets and links the campaign to the action plan; realisations are public.
    **{f"desk.{e}": frozenset({"desk_agent"}) for e in (
        "home", "index", "resident", "keying", "key")},
    **{f"desk.{e}": frozenset({"coordinator", "admin"}) for e in (
        "reconciliation", "reconcile")},
    **{f"realisation.{e}": P for e in ("index", "show", "photo")},
    **{f"realisation.{e}": frozenset({"coordinator", "admin"}) for e in (
        "edit", "milestone_new", "milestone_delete", "plan_link")},
}
# Open to the role, then checked on the object: only the proposal's author may act, so
# other signed-in people get 403 here (tests/budgeting checks the author's side).
OBJECT_CHECKED = {f"budgeting.{e}" for e in (
    "proposal_edit", "proposal_submit", "proposal_withdraw", "image_delete", "answer")}


@pytest.fixture
def world(app):
    """One user per role, and one object of each kind for URL arguments."""
    with app.app_context():
        q = make_territory()
        from civic.territory import services as territory

        svc = territory.save_service(None, None, name="Voirie", slug="voirie", email=None)
        council = territory.save_council(None, None, name="Conseil DEN-01", quartier_id=q.id)
        org = make_interlocutor(q)
        db.session.commit()
        users = {"admin": make_user("admin@example.org", roles=("admin",))}
        scopes = {"agent": svc.id, "council_member": council.id, "interlocutor": org.id}
        for role in ROLES:
            if role in ("admin", "resident", "desk_agent", "porteur"):  # after their scope
                continue
            users[role] = make_user(f"{role}@example.org", roles=((role, scopes.get(role)),))
        users["resident"] = make_user("resident@example.org")
        agent = users["agent"]
        agent_made = User(display_name="Assisted", quartier_id=q.id, created_by_id=agent.id)
        db.session.add(agent_made)
        db.session.commit()
        plan = make_plan()
        action = plan_action(plan, "1.1.1")
        users["porteur"] = make_user("porteur@example.org", roles=(("porteur", action.id),))
        grant = db.session.execute(select(RoleGrant)).scalars().first()
        bv = make_pipeline(users, q, org)
        budget_args = _budget_world(users["resident"], users["coordinator"], svc)
        users["desk_agent"] = make_user("desk_agent@example.org", roles=(
            ("desk_agent", budget_args["campaign_id"]),))
        budget_args.update(_vote_world(users, budget_args))
        council_args = _council_world(council, action, users)
        args = {**bv, **budget_args, **council_args,
            "user_id": agent_made.id, "grant_id": grant.id, "commune_id": db.session.scalar(
                select(Commune.id)), "quartier_id": q.id, "service_id": svc.id,
            "council_id": council.id, "code": q.code, "token": "not-a-token",
            "plan_id": plan.id, "node_id": action.id, "action_id": action.id,
            "year": date.today().year - 1,
            **council_args,
        }
        emails = {r: u.email for r, u in users.items()}
    return emails, args


def _budget_world(resident, coordinator, svc):
    """A campaign in its submission phase, the resident's proposal with an image, and its
    review assigned to the agent's service."""
    from civic.budgeting import services as budget
    from civic.budgeting.states import Phase
    from civic.review import services as review
    from tests.budgeting.factories import make_campaign, png_bytes, proposal_data

    campaign = make_campaign(Phase.SUBMISSION)
    proposal = budget.save_proposal(
        resident, campaign, None, proposal_data(campaign, quartier_id=resident.quartier_id),
        [budget.Upload("a.png", png_bytes())], submit=True)
    review.assign_services(coordinator, proposal, [svc.id])
    comment = budget.add_comment(resident, proposal, "Un commentaire du monde.")
    db.session.commit()
    return {"campaign_id": campaign.id, "proposal_id": proposal.id, "comment_id": comment.id,
            "envelope_id": campaign.envelopes[0].id,
            "image_id": proposal.images[0].id,
            "review_id": review.reviews_of(proposal)[0].id}
def _vote_world(users, budget_args) -> dict[str, int]:
    """A paper sheet keyed differently by two agents, and a realisation with a photo."""
    from civic.budgeting import services as budget
    from civic.budgeting.models import Campaign, Proposal
    from civic.voting import realisation
    from civic.voting.models import PaperEntry, PaperSheet
    from tests.budgeting.factories import png_bytes

    campaign = db.session.get(Campaign, budget_args["campaign_id"])
    envelope = campaign.envelopes[0]
    sheet = PaperSheet(envelope_id=envelope.id, sheet_number="M-1", status="mismatch")
    db.session.add(sheet)
    db.session.flush()
    db.session.add_all([PaperEntry(sheet_id=sheet.id, agent_id=users["desk_agent"].id,
                                   choices="1"),
                        PaperEntry(sheet_id=sheet.id, agent_id=users["coordinator"].id,
                                   choices="2")])
    proposal = db.session.get(Proposal, budget_args["proposal_id"])
    done = realisation.start_realisation(users["coordinator"], proposal)
    from datetime import date

    milestone = realisation.add_milestone(
        users["coordinator"], done, realisation.MilestoneData(date(2027, 1, 5), "Début"),
        [budget.Upload("a.png", png_bytes())])
    db.session.commit()
    return {"envelope_id": envelope.id, "sheet_id": sheet.id, "realisation_id": done.id,
            "photo_id": milestone.photos[0].id, "milestone_id": milestone.id}


def _council_world(council, action, users) -> dict[str, int]:
    """A draw, a meeting, a member and a question in the council, through the services."""
    from datetime import timedelta

    from civic.actionplan import services as actionplan
    from civic.councils import services as councils
    from tests.conftest import make_volunteers

    make_volunteers(council, 1, 1)
    coordinator = users["coordinator"]
    the_draw = councils.run_draw(coordinator, council, seats=2, seed="matrix", age_bands=None,
                                 term_end=None)
    meeting = councils.schedule_meeting(coordinator, council,
                                        day=councils.today() + timedelta(days=7),
                                        time="18:30", location="Salle", agenda="Ordre du jour")
    actionplan.update_action(coordinator, action, porteur="Ville", partners="",
                             period_start=None, period_end=None, budget_cents=None,
                             quartier_ids=[council.quartier_id], public_ids=[], tag_ids=[])
    db.session.refresh(users["council_member"])
    question = councils.ask_question(users["council_member"], council, action, "Pourquoi ?")
    from civic.councils import cycle

    call = cycle.open_call(coordinator, action.plan, year=2030, title="Appel 2030",
                           criteria="Innovation", max_cofinancing_percent=80,
                           closes_on=councils.today() + timedelta(days=30))
    application = cycle.apply_to_call(coordinator, call, porteur="Asso", title="Projet",
                                      description="Texte", quartier_id=council.quartier_id,
                                      budget_cents=10_000, requested_cents=8_000)
    db.session.commit()
    return {"draw_id": the_draw.id, "meeting_id": meeting.id, "question_id": question.id,
            "member_id": the_draw.members[0].id, "call_id": call.id,
            "application_id": application.id}


def _client_for(app, role, emails):
    client = app.test_client()
    if role != ANON:
        html = client.get("/compte/connexion").get_data(as_text=True)
        resp = client.post("/compte/connexion", data={
            "csrf_token": csrf_from(html), "email": emails[role], "password": PASSWORD})
        assert resp.status_code == 302, role
    return client


def test_every_endpoint_declares_access_and_is_in_the_matrix(app):
    endpoints = {r.endpoint for r in app.url_map.iter_rules() if r.endpoint != "static"}
    assert endpoints == set(EXPECTED), "update EXPECTED (and think about who may see the page)"
    with app.test_request_context():
        for endpoint in endpoints:
            declared = access_of(endpoint)
            assert declared is not None, f"{endpoint} declares no access rule"
            expected = EXPECTED[endpoint]
            if expected == P:
                assert declared == PUBLIC, endpoint
            else:
                assert PERMISSIONS[declared] & set(expected) or declared == "account", endpoint


def test_undeclared_view_is_refused(app):
    from flask import Flask

    from civic import create_app
    from tests.conftest import make_config

    other: Flask = create_app(make_config())
    other.add_url_rule("/oubli", "oubli", lambda: "secret")
    assert other.test_client().get("/oubli").status_code == 403


def _token(client) -> str:
    """A CSRF token: from the home page when signed in, else from the login form (visitors'
    pages carry none since the language switcher uses GET)."""
    html = client.get("/").get_data(as_text=True)
    if "csrf_token" not in html:
        html = client.get("/compte/connexion").get_data(as_text=True)
    return csrf_from(html)


@pytest.mark.parametrize("role", ROLE_NAMES)
def test_role_route_matrix(app, world, role):
    emails, args = world
    client = _client_for(app, role, emails)
    token = _token(client)
    failures = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        url = rule.build(args, append_unknown=False)[1] if rule.arguments else rule.rule
        expected = EXPECTED[rule.endpoint]
        allowed = expected == P or role in expected
        method = "GET" if "GET" in rule.methods else "POST"
        if method == "GET":
            resp = client.get(url)
        else:
            resp = client.post(url, data={"csrf_token": token})
        status = resp.status_code
        if allowed and rule.endpoint in OBJECT_CHECKED and role != "resident":
            ok = status < 500 and status in (200, 302, 400, 403, 422) and not (
                status == 302 and "/compte/connexion" in resp.location)
        elif allowed:
            ok = status < 500 and status != 403 and not (
                status == 302 and "/compte/connexion" in resp.location
                and rule.endpoint not in ("accounts.register", "accounts.login"))
        elif role == ANON:
            ok = status == 302 and "/compte/connexion" in resp.location
        else:
            ok = status == 403
        if not ok:
            failures.append(f"{method} {url} as {role}: {status}")
        if method == "POST" and rule.endpoint == "accounts.logout" and allowed:
            client = _client_for(app, role, emails)
            token = _token(client)
    assert not failures, "\n".join(failures)


def test_agent_cannot_read_another_agents_receipt(app, world, client):
    emails, args = world
    with app.app_context():
        make_user("agent2@example.org", roles=(("agent", db.session.scalar(select(CityService.id))),))
        rid = args["user_id"]
    client.post("/compte/connexion", data={
        "csrf_token": csrf_from(client.get("/compte/connexion").get_data(as_text=True)),
        "email": "agent2@example.org", "password": PASSWORD})
    assert client.get(f"/guichet/recu/{rid}").status_code == 403


def test_permissions_reference_known_roles():
    for perm, roles in PERMISSIONS.items():
        assert roles <= set(ROLES), perm

