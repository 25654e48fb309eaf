"""Feasibility review: scoped queues, verdict rules, internal notes, publication, replies."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from civic.budgeting import services as budget
from civic.budgeting.models import Notification
from civic.budgeting.states import Phase, ProposalStatus
from civic.extensions import db
from civic.review import services as review
from civic.territory import services as territory
from tests.budgeting.factories import make_campaign, make_proposal, set_phase
from tests.conftest import login, make_user, outbox, post_form

S = ProposalStatus


@pytest.fixture
def world(app):
    """A campaign in submission, a resident's proposal, two services with an agent each."""
    with app.app_context():
        resident = make_user("ines@example.org")
        coord = make_user("coord@example.org", roles=("coordinator",))
        voirie = territory.save_service(None, None, name="Voirie", slug="voirie", email=None)
        verts = territory.save_service(None, None, name="Espaces verts", slug="verts",
                                       email=None)
        db.session.commit()
        make_user("voirie@example.org", roles=(("agent", voirie.id),))
        make_user("verts@example.org", roles=(("agent", verts.id),))
        campaign = make_campaign(Phase.SUBMISSION)
        proposal = make_proposal(resident, campaign)
        review.assign_services(coord, proposal, [voirie.id, verts.id])
        db.session.commit()
        ids = {"campaign": campaign.id, "proposal": proposal.id, "voirie": voirie.id,
               "verts": verts.id}
        ids["reviews"] = {r.service_id: r.id for r in review.reviews_of(proposal)}
    return ids


def _agent(email):
    return db.session.execute(select(budget.User).where(budget.User.email == email)).scalar_one()


def test_assignment_moves_the_proposal_under_review_and_tells_the_author(app, world):
    with app.app_context():
        proposal = db.session.get(budget.Proposal, world["proposal"])
        assert proposal.state is S.UNDER_REVIEW
        assert any("Under review" in m.subject or "étude" in m.subject
                   for m in outbox("ines@example.org"))


def test_agent_sees_only_their_services_queue(app, world):
    with app.app_context():
        voirie = _agent("voirie@example.org")
        items = review.queue_for(voirie)
        assert [i.service_id for i in items] == [world["voirie"]]


def test_verdict_rules(app, world):
    with app.app_context():
        agent = _agent("voirie@example.org")
        item = db.session.get(review.FeasibilityReview, world["reviews"][world["voirie"]])
        for data, field in [
            (review.VerdictData("feasible", "", None, None), "validated_cost"),
            (review.VerdictData("feasible", "", -100, None), "validated_cost"),
            (review.VerdictData("feasible", "", 10**13, None), "validated_cost"),
            (review.VerdictData("unfeasible", "", None, None), "public_explanation"),
            (review.VerdictData("needs_info", "?", None, None), "public_explanation"),
            (review.VerdictData("maybe", "", None, None), "verdict"),
        ]:
            with pytest.raises(budget.BudgetError) as exc:
                review.record_feasibility(agent, item, data)
            assert exc.value.field == field, data
            db.session.rollback()
        other = db.session.get(review.FeasibilityReview, world["reviews"][world["verts"]])
        with pytest.raises(budget.NotYours):
            review.record_feasibility(agent, other, review.VerdictData("feasible", "", 1, None))


def test_agent_cannot_open_another_services_review(app, client, world):
    login(client, "voirie@example.org")
    other = world["reviews"][world["verts"]]
    assert client.get(f"/etude-de-faisabilite/avis/{other}").status_code == 403
    resp = post_form(client, f"/etude-de-faisabilite/avis/{other}",
                     {"verdict": "feasible", "validated_cost": "10"}, token_page="/")
    assert resp.status_code == 403


def _decide_both(app, world, verts_notes="Arbres classés : voir avec l'ABF."):
    with app.app_context():
        review.record_feasibility(
            _agent("voirie@example.org"),
            db.session.get(review.FeasibilityReview, world["reviews"][world["voirie"]]),
            review.VerdictData("feasible", "Trottoir à reprendre.", 8_000_00, 4,
                               "Devis de l'entreprise X"))
        review.record_feasibility(
            _agent("verts@example.org"),
            db.session.get(review.FeasibilityReview, world["reviews"][world["verts"]]),
            review.VerdictData("feasible", "Plantations possibles.", 3_500_00, 10, verts_notes))
        db.session.commit()


def test_internal_notes_never_reach_residents_nor_other_services(app, client, world):
    _decide_both(app, world)
    url = f"/budget-participatif/propositions/{world['proposal']}"
    login(client, "voirie@example.org")
    html = client.get(url).get_data(as_text=True)
    assert "entreprise X" in html and "Arbres classés" not in html
    client.post("/compte/deconnexion", data={})
    other = client.application.test_client()
    login(other, "ines@example.org")
    html = other.get(url).get_data(as_text=True)
    assert "entreprise X" not in html and "Arbres classés" not in html
    # Not published yet: the author sees no answer.
    assert "Trottoir à reprendre" not in html


def test_publication_combines_the_services_answers_and_notifies(app, client, world):
    _decide_both(app, world)
    login(client, "coord@example.org")
    url = f"/etude-de-faisabilite/campagnes/{world['campaign']}/publication"
    page = client.get(url).get_data(as_text=True)
    assert "Arbres classés" in page  # the coordinator sees the notes
    resp = post_form(client, url, {"proposal_ids": str(world["proposal"])})
    assert resp.status_code == 302
    with app.app_context():
        proposal = db.session.get(budget.Proposal, world["proposal"])
        assert proposal.state is S.FEASIBLE
        assert proposal.validated_cost_cents == 11_500_00 and proposal.duration_weeks == 10
        assert proposal.is_votable
        assert "Arbres classés" not in proposal.answer_public
        notes = db.session.execute(select(Notification).where(
            Notification.user_id == proposal.author_id)).scalars().all()
        assert any("Feasible" in n.message or "Faisable" in n.message for n in notes)
        assert len(outbox("ines@example.org")) >= 2
    public = client.application.test_client().get(
        f"/budget-participatif/propositions/{world['proposal']}").get_data(as_text=True)
    assert "Trottoir à reprendre" in public and "entreprise X" not in public


def test_question_to_the_author_and_reply(app, client, world):
    with app.app_context():
        review.record_feasibility(
            _agent("voirie@example.org"),
            db.session.get(review.FeasibilityReview, world["reviews"][world["voirie"]]),
            review.VerdictData("needs_info", "Quel côté de la rue exactement ?", None, None))
        review.record_feasibility(
            _agent("verts@example.org"),
            db.session.get(review.FeasibilityReview, world["reviews"][world["verts"]]),
            review.VerdictData("feasible", "OK", 1_000_00, None))
        coord = _agent("coord@example.org")
        campaign = db.session.get(budget.Campaign, world["campaign"])
        review.publish_answers(coord, campaign, [world["proposal"]])
        db.session.commit()
        assert db.session.get(budget.Proposal, world["proposal"]).state is S.NEEDS_INFO
    login(client, "ines@example.org")
    page = client.get(f"/budget-participatif/propositions/{world['proposal']}/repondre")
    assert "Quel côté de la rue" in page.get_data(as_text=True)
    resp = post_form(client, f"/budget-participatif/propositions/{world['proposal']}/repondre",
                     {"reply": "Côté école, entre les numéros 4 et 12."})
    assert resp.status_code == 302
    with app.app_context():
        proposal = db.session.get(budget.Proposal, world["proposal"])
        assert proposal.state is S.UNDER_REVIEW
        voirie = db.session.get(review.FeasibilityReview, world["reviews"][world["voirie"]])
        assert voirie.verdict is None and "Côté école" in voirie.author_reply
        assert review.queue_for(_agent("voirie@example.org"))[0].id == voirie.id


def test_publication_refuses_unready_proposals(app, world):
    with app.app_context():
        coord = _agent("coord@example.org")
        campaign = db.session.get(budget.Campaign, world["campaign"])
        with pytest.raises(budget.BudgetError):
            review.publish_answers(coord, campaign, [world["proposal"]])


def test_dashboard_counts_and_median(app, client, world):
    _decide_both(app, world)
    login(client, "coord@example.org")
    html = client.get(f"/etude-de-faisabilite/campagnes/{world['campaign']}/tableau-de-bord"
                      ).get_data(as_text=True)
    assert "Voirie" in html and "Espaces verts" in html
    with app.app_context():
        by_service, by_quartier = review.dashboard(
            db.session.get(budget.Campaign, world["campaign"]), _agent("coord@example.org"))
        voirie = next(r for r in by_service if r.label == "Voirie")
        assert (voirie.received, voirie.reviewed, voirie.feasible, voirie.waiting) == (1, 1, 1, 0)
        assert sum(r.received for r in by_quartier) == 1
        assert sum(r.waiting for r in by_quartier) == 1
        agent_rows, _q = review.dashboard(db.session.get(budget.Campaign, world["campaign"]),
                                          _agent("voirie@example.org"))
        assert [r.label for r in agent_rows] == ["Voirie"]


def test_bulk_assignment_by_theme(app, world):
    with app.app_context():
        coord = _agent("coord@example.org")
        campaign = db.session.get(budget.Campaign, world["campaign"])
        resident = _agent("ines@example.org")
        p2 = make_proposal(resident, campaign, title="Un deuxième projet")
        p3 = make_proposal(resident, campaign, title="Un troisième projet",
                           theme_id=campaign.themes[1].id)
        n = review.assign_by_theme(coord, campaign, campaign.themes[0].id, [world["voirie"]])
        assert n == 1 and p2.state is S.UNDER_REVIEW and p3.state is S.SUBMITTED


def test_a_published_answer_can_be_reopened_with_a_public_reason(app, client, world):
    _decide_both(app, world)
    login(client, "coord@example.org")
    url = f"/etude-de-faisabilite/campagnes/{world['campaign']}/publication"
    post_form(client, url, {"proposal_ids": str(world["proposal"])})
    page = client.get(url).get_data(as_text=True)
    reopen = f"/etude-de-faisabilite/propositions/{world['proposal']}/rouvrir"
    assert reopen in page
    # A reason is required, and nothing changes without one.
    resp = post_form(client, reopen, {"reason": "trop"}, token_page=url)
    assert resp.status_code == 302
    with app.app_context():
        assert db.session.get(budget.Proposal, world["proposal"]).state is S.FEASIBLE
        before = len(outbox("ines@example.org"))
    resp = post_form(client, reopen, {"reason": "Le devis de la voirie était erroné."},
                     token_page=url)
    assert resp.status_code == 302
    with app.app_context():
        proposal = db.session.get(budget.Proposal, world["proposal"])
        assert proposal.state is S.UNDER_REVIEW and not proposal.is_votable
        assert proposal.answer_public == "" and proposal.validated_cost_cents is None
        assert all(r.published_at is None for r in review.reviews_of(proposal))
        mails = outbox("ines@example.org")[before:]
        assert any("devis de la voirie" in m.body for m in mails)
        from civic.audit import AuditEntry

        assert db.session.execute(select(AuditEntry).where(
            AuditEntry.action == "review.reopened")).scalar_one()
        # The services may record again; the answer is published anew.
        review.record_feasibility(
            _agent("voirie@example.org"),
            db.session.get(review.FeasibilityReview, world["reviews"][world["voirie"]]),
            review.VerdictData("feasible", "Trottoir à reprendre.", 9_000_00, 4, ""))
        db.session.commit()
    post_form(client, url, {"proposal_ids": str(world["proposal"])})
    with app.app_context():
        proposal = db.session.get(budget.Proposal, world["proposal"])
        assert proposal.state is S.FEASIBLE and proposal.validated_cost_cents == 12_500_00
    public = client.application.test_client().get(
        f"/budget-participatif/propositions/{world['proposal']}").get_data(as_text=True)
    assert "devis de la voirie" in public  # the history shows why it was reopened


def test_only_published_answers_and_only_during_the_review_can_be_reopened(app, world):
    with app.app_context():
        coord = _agent("coord@example.org")
        proposal = db.session.get(budget.Proposal, world["proposal"])
        with pytest.raises(budget.BudgetError):
            review.reopen_answer(coord, proposal, "Pas encore publiée, rien à rouvrir.")
        db.session.rollback()
    _decide_both(app, world)
    with app.app_context():
        coord = _agent("coord@example.org")
        campaign = db.session.get(budget.Campaign, world["campaign"])
        review.publish_answers(coord, campaign, [world["proposal"]])
        db.session.commit()
        set_phase(db.session.get(budget.Campaign, world["campaign"]), Phase.VOTE)
        proposal = db.session.get(budget.Proposal, world["proposal"])
        with pytest.raises(budget.BudgetError):
            review.reopen_answer(coord, proposal, "Le devis de la voirie était erroné.")
        db.session.rollback()
        assert db.session.get(budget.Proposal, world["proposal"]).state is S.FEASIBLE
