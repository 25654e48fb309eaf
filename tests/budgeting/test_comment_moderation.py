"""Comment moderation: residents report comments, moderators hide, restore or dismiss (audited,
author told), hidden text never served to readers, and the posting throttle."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from civic.accounts.models import AuditEntry
from civic.budgeting import comments
from civic.budgeting import services as budget
from civic.budgeting.models import CommentReport, Notification, ProposalComment
from civic.budgeting.states import Phase
from civic.extensions import db
from tests.budgeting.factories import make_campaign, make_proposal
from tests.conftest import login, make_user, outbox, post_form

SECRET = "Texte injurieux numéro 7421 à masquer"


def _notes(user_id: int) -> list[str]:
    return [n.message for n in db.session.execute(
        select(Notification).where(Notification.user_id == user_id)
        .order_by(Notification.id)).scalars()]


def _audits(action: str) -> list[AuditEntry]:
    return list(db.session.execute(
        select(AuditEntry).where(AuditEntry.action == action)).scalars())


@pytest.fixture
def world(app):
    """An author's proposal with a comment by another resident; a coordinator, an admin,
    a reporter and a council member (no moderation rights). Returns ids."""
    with app.app_context():
        author = make_user("ines@example.org")
        writer = make_user("writer@example.org")
        reporter = make_user("rep@example.org")
        coord = make_user("coord@example.org", roles=("coordinator",))
        admin = make_user("admin@example.org", roles=("admin",))
        campaign = make_campaign(Phase.SUBMISSION)
        proposal = make_proposal(author, campaign)
        comment = budget.add_comment(writer, proposal, SECRET)
        db.session.commit()
        return {"author": author.id, "writer": writer.id, "reporter": reporter.id,
                "coord": coord.id, "admin": admin.id, "proposal": proposal.id,
                "comment": comment.id}


# ---------------------------------------------------------------- services

def test_report_once_not_own_and_reason_from_the_list(app, world):
    from civic.accounts.models import User

    with app.test_request_context():
        comment = db.session.get(ProposalComment, world["comment"])
        reporter = db.session.get(User, world["reporter"])
        writer = db.session.get(User, world["writer"])
        with pytest.raises(budget.BudgetError) as exc:
            comments.report_comment(writer, comment, "spam")
        assert exc.value.message == "Vous ne pouvez pas signaler votre propre commentaire."
        with pytest.raises(budget.BudgetError) as exc:
            comments.report_comment(reporter, comment, "rude")
        assert exc.value.field == "reason"
        with pytest.raises(budget.BudgetError) as exc:
            comments.report_comment(reporter, comment, "other", "")  # other needs details
        assert exc.value.field == "details"
        comments.report_comment(reporter, comment, "offensive", "Insulte envers un voisin.")
        db.session.commit()
        with pytest.raises(comments.AlreadyReported):
            comments.report_comment(reporter, comment, "spam")
        assert db.session.scalar(select(func.count(CommentReport.id))) == 1


def test_queue_is_oldest_first_with_counts_and_reasons(app, world):
    from datetime import timedelta

    from civic.accounts.models import User

    with app.test_request_context():
        proposal = db.session.get(ProposalComment, world["comment"]).proposal
        writer = db.session.get(User, world["writer"])
        author = db.session.get(User, world["author"])
        newer = budget.add_comment(author, proposal, "Un autre commentaire signalé.")
        db.session.flush()
        first = db.session.get(ProposalComment, world["comment"])
        people = [make_user(f"r{i}@example.org") for i in range(3)]
        comments.report_comment(people[0], newer, "spam")
        comments.report_comment(people[0], first, "offensive", "Grossier.")
        comments.report_comment(people[1], first, "offensive")
        comments.report_comment(people[2], first, "personal_data")
        # The newer comment's report is the older one: it waits longest, so comes first.
        for r in db.session.execute(select(CommentReport)).scalars():
            if r.comment_id == newer.id:
                r.at -= timedelta(hours=2)
        db.session.commit()
        items, has_next = comments.report_queue()
        assert [i.comment.id for i in items] == [newer.id, first.id] and not has_next
        assert items[1].count == 3
        assert items[1].reasons[0] == ("Insultes, harcèlement ou propos haineux", 2)
        assert items[1].details == ["Grossier."]
        assert writer.id == first.author_id


def test_hide_notifies_audits_and_closes_reports_then_restore(app, world):
    from civic.accounts.models import User

    with app.test_request_context():
        comment = db.session.get(ProposalComment, world["comment"])
        coord = db.session.get(User, world["coord"])
        reporter = db.session.get(User, world["reporter"])
        comments.report_comment(reporter, comment, "offensive")
        with pytest.raises(budget.BudgetError) as exc:
            comments.decide(coord, comment, "hide", None)
        assert exc.value.field == "reason"
        with pytest.raises(budget.BudgetError) as exc:
            comments.decide(coord, comment, "restore", None)  # not hidden
        assert exc.value.field == "decision"
        comments.decide(coord, comment, "hide", "offensive", "Merci de rester courtois.")
        db.session.commit()
        assert comment.is_hidden and comment.hidden_reason == "offensive"
        assert comments.report_queue() == ([], False)
        assert db.session.execute(select(CommentReport)).scalar_one().outcome == "hidden"
        notes = _notes(world["writer"])
        assert any("masqué" in n and "Insultes" in n and "courtois" in n for n in notes)
        assert [m.subject for m in outbox("writer@example.org")][-1] == \
            "Votre commentaire a été masqué par les modérateurs"
        (entry,) = _audits("budget.comment_hidden")
        assert entry.actor_id == coord.id and entry.subject_user_id == world["writer"]
        assert f"comment {comment.id}" in entry.detail and "offensive" in entry.detail
        # A hidden comment can no longer be reported, nor hidden again.
        with pytest.raises(budget.BudgetError):
            comments.report_comment(make_user("late@example.org"), comment, "spam")
        assert comments.decisions_for(comment) == ["restore"]
        comments.decide(coord, comment, "restore", None, "Après relecture, acceptable.")
        db.session.commit()
        assert not comment.is_hidden and comment.hidden_reason is None
        assert _audits("budget.comment_restored")
        assert any("de nouveau visible" in n for n in _notes(world["writer"]))


def test_dismiss_keeps_the_comment_and_closes_its_reports(app, world):
    from civic.accounts.models import User

    with app.test_request_context():
        comment = db.session.get(ProposalComment, world["comment"])
        coord = db.session.get(User, world["coord"])
        assert comments.decisions_for(comment) == ["hide"]  # nothing to dismiss yet
        comments.report_comment(db.session.get(User, world["reporter"]), comment, "spam")
        assert comments.decisions_for(comment) == ["hide", "dismiss"]
        assert comments.decide(coord, comment, "dismiss", None) == "dismiss"
        db.session.commit()
        assert not comment.is_hidden
        assert db.session.execute(select(CommentReport)).scalar_one().outcome == "dismissed"
        (entry,) = _audits("budget.comment_reports_dismissed")
        assert "1 report" in entry.detail
        with pytest.raises(budget.BudgetError):
            comments.decide(coord, comment, "dismiss", None)  # no open report left


def test_comment_views_hide_text_and_name_from_everyone_but_moderators(app, world):
    from flask_login import AnonymousUserMixin

    from civic.accounts.models import User

    with app.test_request_context():
        comment = db.session.get(ProposalComment, world["comment"])
        coord = db.session.get(User, world["coord"])
        comments.hide_comment(coord, comment, "spam")
        db.session.commit()
        for reader in (AnonymousUserMixin(), db.session.get(User, world["reporter"]),
                       db.session.get(User, world["writer"])):  # the author too
            (view,) = comments.comment_views(comment.proposal, reader)
            assert view.hidden and view.body is None and view.author_name is None
            assert view.hidden_reason == "Spam ou publicité" and not view.can_report
        (view,) = comments.comment_views(comment.proposal, coord)
        assert view.body == SECRET and view.author_name == "Writer"


def test_throttle_refuses_the_fourth_comment_in_a_minute(app, world):
    from datetime import timedelta

    from civic.accounts.models import User

    with app.test_request_context():
        writer = db.session.get(User, world["writer"])
        proposal = db.session.get(ProposalComment, world["comment"]).proposal
        budget.add_comment(writer, proposal, "Deuxième commentaire.")
        budget.add_comment(writer, proposal, "Troisième commentaire.")
        with pytest.raises(budget.BudgetError) as exc:
            budget.add_comment(writer, proposal, "Quatrième commentaire.")
        assert exc.value.field == "body" and "3 commentaires par minute" in exc.value.message
        # Others are not slowed down by this person's pace.
        budget.add_comment(db.session.get(User, world["reporter"]), proposal, "Moi aussi.")
        # A minute later, the writer may comment again.
        for c in db.session.execute(select(ProposalComment).where(
                ProposalComment.author_id == writer.id)).scalars():
            c.at -= timedelta(seconds=61)
        budget.add_comment(writer, proposal, "Quatrième commentaire.")
        db.session.rollback()


# ---------------------------------------------------------------- pages

def test_report_page_double_report_and_own_comment(app, client, world):
    url = f"/budget-participatif/commentaires/{world['comment']}/signaler"
    login(client, "rep@example.org")
    page = client.get(url)
    assert page.status_code == 200 and SECRET in page.get_data(as_text=True)
    resp = post_form(client, url, {"reason": "offensive", "details": "Insulte."})
    assert resp.status_code == 302
    assert resp.location.endswith(f"/propositions/{world['proposal']}"
                                  f"#commentaire-{world['comment']}")
    # Twice: a clear message, nothing written, no error page.
    resp = post_form(client, url, {"reason": "spam"}, follow_redirects=True)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "déjà signalé ce commentaire" in html
    page = client.get(url).get_data(as_text=True)
    assert "déjà signalé ce commentaire" in page and 'name="reason"' not in page
    with app.app_context():
        assert db.session.scalar(select(func.count(CommentReport.id))) == 1
    writer = app.test_client()
    login(writer, "writer@example.org")
    page = writer.get(url).get_data(as_text=True)
    assert "propre commentaire" in page and 'name="reason"' not in page
    resp = post_form(writer, url, {"reason": "spam"}, token_page="/")
    assert resp.status_code == 422 and "propre commentaire" in resp.get_data(as_text=True)
    proposal_page = writer.get(f"/budget-participatif/propositions/{world['proposal']}")
    assert url not in proposal_page.get_data(as_text=True)  # no report link on one's own
    with app.app_context():
        assert db.session.scalar(select(func.count(CommentReport.id))) == 1


def test_report_bad_input_gives_form_errors_or_404(app, client, world):
    url = f"/budget-participatif/commentaires/{world['comment']}/signaler"
    login(client, "rep@example.org")
    for data, needle in (({}, "Choisissez un motif dans la liste"),
                         ({"reason": "rude"}, "Choisissez un motif dans la liste"),
                         ({"reason": "other", "details": ""}, "Dites en quelques mots"),
                         ({"reason": "spam", "details": "x" * 1001}, "1000")):
        resp = post_form(client, url, data)
        html = resp.get_data(as_text=True)
        assert resp.status_code == 422, data
        assert needle in html.replace("\u202f", "").replace(" ", "") or needle in html, data
    assert client.get("/budget-participatif/commentaires/999999/signaler").status_code == 404
    resp = post_form(client, "/budget-participatif/commentaires/999999/signaler",
                     {"reason": "spam"}, token_page="/")
    assert resp.status_code == 404
    assert client.get(
        "/budget-participatif/commentaires/99999999999999999999/signaler").status_code == 404
    with app.app_context():
        assert db.session.scalar(select(func.count(CommentReport.id))) == 0


def test_forged_posts_without_csrf_are_rejected(app, client, world):
    login(client, "rep@example.org")
    resp = client.post(f"/budget-participatif/commentaires/{world['comment']}/signaler",
                       data={"reason": "spam"})
    assert resp.status_code == 400
    coord = app.test_client()
    login(coord, "coord@example.org")
    resp = coord.post(f"/budget-participatif/commentaires/{world['comment']}/moderer",
                      data={"decision": "hide", "reason": "spam"})
    assert resp.status_code == 400
    resp = client.post(f"/budget-participatif/propositions/{world['proposal']}/commentaires",
                       data={"body": "Sans jeton"})
    assert resp.status_code == 400
    with app.app_context():
        assert db.session.scalar(select(func.count(CommentReport.id))) == 0
        assert not db.session.get(ProposalComment, world["comment"]).is_hidden
        assert db.session.scalar(select(func.count(ProposalComment.id))) == 1


def test_moderator_hides_from_the_queue_and_text_leaves_the_public_page(app, client, world):
    proposal_url = f"/budget-participatif/propositions/{world['proposal']}"
    visitor = app.test_client()
    assert SECRET in visitor.get(proposal_url).get_data(as_text=True)  # (now in the cache)
    reporter = app.test_client()
    login(reporter, "rep@example.org")
    post_form(reporter, f"/budget-participatif/commentaires/{world['comment']}/signaler",
              {"reason": "offensive"})
    login(client, "coord@example.org")
    queue = client.get("/budget-participatif/moderation/commentaires")
    html = queue.get_data(as_text=True)
    assert queue.status_code == 200 and SECRET in html
    assert "Insultes, harcèlement ou propos haineux (1)" in html
    url = f"/budget-participatif/commentaires/{world['comment']}/moderer"
    page = client.get(url).get_data(as_text=True)
    assert 'value="hide"' in page and 'value="dismiss"' in page and 'value="restore"' not in page
    resp = post_form(client, url, {"decision": "hide", "reason": ""})
    assert resp.status_code == 422 and "Choisissez pourquoi" in resp.get_data(as_text=True)
    resp = post_form(client, url, {"decision": "hide", "reason": "offensive",
                                   "note": "Restez courtois."})
    assert resp.status_code == 302 and resp.location.endswith("/moderation/commentaires")
    html = client.get("/budget-participatif/moderation/commentaires").get_data(as_text=True)
    assert "Aucun signalement en attente" in html
    expected = "Ce commentaire a été masqué par la modération (Insultes, harcèlement ou " \
               "propos haineux)."
    for who in (visitor, reporter):
        html = who.get(proposal_url).get_data(as_text=True)
        assert expected in html and SECRET not in html and "Writer" not in html
    writer = app.test_client()
    login(writer, "writer@example.org")
    html = writer.get(proposal_url).get_data(as_text=True)
    assert expected in html and SECRET not in html  # its author reads the reason, too
    html = client.get(proposal_url).get_data(as_text=True)
    assert expected in html and SECRET in html  # moderators still read it
    html = writer.get("/budget-participatif/mon-espace").get_data(as_text=True)
    assert "a été masqué par les modérateurs. Motif : Insultes" in html
    with app.app_context():
        assert len(_audits("budget.comment_hidden")) == 1
        assert "Restez courtois." in outbox("writer@example.org")[-1].body
    # Restore from the same page: the only decision left.
    page = client.get(url).get_data(as_text=True)
    assert 'value="restore"' in page and 'value="hide"' not in page
    resp = post_form(client, url, {"decision": "restore"})
    assert resp.status_code == 302
    assert SECRET in visitor.get(proposal_url).get_data(as_text=True)
    with app.app_context():
        assert len(_audits("budget.comment_restored")) == 1


def test_moderation_bad_input(app, client, world):
    login(client, "coord@example.org")
    url = f"/budget-participatif/commentaires/{world['comment']}/moderer"
    for data in ({"decision": "restore"}, {"decision": "dismiss"}, {"decision": "explode"},
                 {}, {"decision": "hide", "reason": "rude"},
                 {"decision": "hide", "reason": "spam", "note": "x" * 1001}):
        resp = post_form(client, url, data)
        assert resp.status_code == 422, data
    assert client.get("/budget-participatif/commentaires/424242/moderer").status_code == 404
    with app.app_context():
        assert not db.session.get(ProposalComment, world["comment"]).is_hidden
        assert _audits("budget.comment_hidden") == []


def test_residents_cannot_moderate(app, client, world):
    login(client, "rep@example.org")
    assert client.get("/budget-participatif/moderation/commentaires").status_code == 403
    url = f"/budget-participatif/commentaires/{world['comment']}/moderer"
    resp = post_form(client, url, {"decision": "hide", "reason": "spam"}, token_page="/")
    assert resp.status_code == 403
    with app.app_context():
        assert not db.session.get(ProposalComment, world["comment"]).is_hidden


def test_throttled_comment_keeps_the_typed_text(app, client, world):
    url = f"/budget-participatif/propositions/{world['proposal']}"
    login(client, "rep@example.org")
    for i in range(3):
        resp = post_form(client, url + "/commentaires", {"body": f"Commentaire {i}"},
                         token_page=url)
        assert resp.status_code == 302
    typed = "Mon quatrième avis, bien réfléchi & détaillé"
    resp = post_form(client, url + "/commentaires", {"body": typed}, token_page=url)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "au plus 3 commentaires par minute" in html
    assert "Mon quatrième avis, bien réfléchi &amp; détaillé</textarea>" in html
    assert 'aria-invalid="true"' in html
    resp = post_form(client, url + "/commentaires", {"body": ""}, token_page=url)
    assert resp.status_code == 422
    with app.app_context():
        assert db.session.scalar(select(func.count(ProposalComment.id))) == 4


def test_export_keeps_the_authors_own_hidden_comment_and_reports(app, world):
    from civic.accounts.models import User
    from civic.budgeting.services import _export_budget_data

    with app.test_request_context():
        comment = db.session.get(ProposalComment, world["comment"])
        reporter = db.session.get(User, world["reporter"])
        comments.report_comment(reporter, comment, "spam")
        comments.hide_comment(db.session.get(User, world["coord"]), comment, "spam")
        db.session.commit()
        data = _export_budget_data(db.session.get(User, world["writer"]))
        assert data["comments"][0]["body"] == SECRET
        assert data["comments"][0]["hidden_reason"] == "spam"
        mine = _export_budget_data(reporter)["comment_reports"]
        assert mine[0]["reason"] == "spam" and mine[0]["outcome"] == "hidden"


def test_demo_has_a_reported_comment_once(runner, app):
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    again = runner.invoke(args=["seed-demo"])
    assert "comments +0" in again.output
    with app.test_request_context():
        items, _more = comments.report_queue()
        assert len(items) == 1 and items[0].count == 2



def test_english_reader_gets_the_placeholder_in_english(app, world):
    from civic.accounts.models import User

    with app.test_request_context():
        comment = db.session.get(ProposalComment, world["comment"])
        comments.hide_comment(db.session.get(User, world["coord"]), comment, "personal_data")
        db.session.commit()
    html = app.test_client().get(
        f"/budget-participatif/propositions/{world['proposal']}",
        headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "This comment was hidden by moderation (Personal information about someone)." \
        in html and SECRET not in html
