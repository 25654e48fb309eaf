"""Comments, follows, reports, hide/restore with a reason, and merging duplicates."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from civic.accounts.models import AuditEntry
from civic.budgeting import services as budget
from civic.budgeting.models import Notification
from civic.budgeting.states import Phase, ProposalStatus, TransitionRefused
from civic.extensions import db
from tests.budgeting.factories import make_campaign, make_proposal
from tests.conftest import login, make_user, post_form

S = ProposalStatus


def _notes(user):
    return [n.message for n in db.session.execute(
        select(Notification).where(Notification.user_id == user.id)).scalars()]


def test_follow_comment_and_be_notified(ctx):
    author = make_user("ines@example.org")
    fan = make_user("fan@example.org")
    campaign = make_campaign()
    proposal = make_proposal(author, campaign)
    assert budget.toggle_follow(fan, proposal) is True
    budget.add_comment(fan, proposal, "Très bonne idée, il manque des bancs.")
    assert any("commented" in m or "commenté" in m for m in _notes(author))
    budget.withdraw_proposal(author, proposal)
    assert any("follow" in m or "suivez" in m for m in _notes(fan))
    with pytest.raises(budget.BudgetError):
        budget.add_comment(fan, proposal, "Trop tard")  # withdrawn: closed


def test_hide_and_restore_with_reason_logged(ctx):
    author = make_user("ines@example.org")
    coord = make_user("coord@example.org", roles=("coordinator",))
    reporter = make_user("rep@example.org")
    campaign = make_campaign()
    proposal = make_proposal(author, campaign)
    budget.flag_proposal(reporter, proposal, "Propos injurieux dans la description.")
    with pytest.raises(budget.BudgetError):
        budget.flag_proposal(reporter, proposal, "Encore une fois")
    assert budget.flagged_proposals(campaign)[0][1] == 1
    with pytest.raises(budget.BudgetError) as exc:
        budget.hide_proposal(coord, proposal, "")
    assert exc.value.field == "reason"
    budget.hide_proposal(coord, proposal, "Propos injurieux.")
    assert proposal.state is S.HIDDEN and budget.flagged_proposals(campaign) == []
    assert not budget.is_visible(reporter, proposal) and budget.is_visible(author, proposal)
    budget.restore_proposal(coord, proposal, "Texte corrigé par l'auteur.")
    assert proposal.state is S.SUBMITTED
    actions = [a.action for a in db.session.execute(select(AuditEntry)).scalars()]
    assert "budget.proposal_hidden" in actions and "budget.proposal_restored" in actions
    with pytest.raises(TransitionRefused):
        budget.restore_proposal(coord, proposal, "Pas cachée")


def test_merge_keeps_authors_and_followers_and_tells_them(ctx):
    a = make_user("a@example.org")
    b = make_user("b@example.org")
    fan = make_user("fan@example.org")
    coord = make_user("coord@example.org", roles=("coordinator",))
    campaign = make_campaign()
    target = make_proposal(a, campaign, title="Des bancs au square Voltaire")
    dup = make_proposal(b, campaign, title="Bancs square Voltaire")
    budget.toggle_follow(fan, dup)
    budget.merge_proposals(coord, dup, target)
    db.session.commit()
    assert dup.state is S.MERGED and dup.merged_into_id == target.id
    assert target.author_ids == {a.id, b.id}
    follower_ids = {u.id for u in budget.followers(target)}
    assert {a.id, b.id, fan.id} <= follower_ids
    assert any("merged" in m or "fusionn" in m for m in _notes(b))
    assert any("merged" in m or "fusionn" in m for m in _notes(a))
    assert any("merged" in m or "fusionn" in m for m in _notes(fan))
    assert target in budget.proposals_of(b)
    with pytest.raises(TransitionRefused):
        budget.merge_proposals(coord, dup, target)  # already merged


def test_moderation_pages(app, client):
    with app.app_context():
        author = make_user("ines@example.org")
        make_user("coord@example.org", roles=("coordinator",))
        campaign = make_campaign(Phase.SUBMISSION)
        pid = make_proposal(author, campaign).id
        cid = campaign.id
    login(client, "coord@example.org")
    assert client.get(f"/budget-participatif/campagnes/{cid}/moderation").status_code == 200
    resp = post_form(client, f"/budget-participatif/propositions/{pid}/moderer",
                     {"action": "hide", "reason": ""})
    assert resp.status_code == 422
    resp = post_form(client, f"/budget-participatif/propositions/{pid}/moderer",
                     {"action": "hide", "reason": "Hors sujet : publicité."})
    assert resp.status_code == 302
    anon = app.test_client()
    assert anon.get(f"/budget-participatif/propositions/{pid}").status_code == 404
