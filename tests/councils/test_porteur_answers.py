"""The porteur of an action answers the councils' questions on it, in the app; not others'."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from civic.accounts.models import User
from civic.actionplan import services as actionplan
from civic.councils import services as councils
from civic.councils.models import CouncilQuestion
from civic.extensions import db
from tests.conftest import (
    login,
    make_council,
    make_plan,
    make_territory,
    make_user,
    plan_action,
    post_form,
)


@pytest.fixture
def setup(app):
    """A council of a quartier; two of the plan's actions in that quartier, a question on
    each; Paul is the porteur of the first only."""
    with app.app_context():
        q = make_territory()
        council = make_council(q)
        coordinator = make_user("coord@example.org", roles=("coordinator",))
        member = make_user("membre@example.org", roles=(("council_member", council.id),))
        plan = make_plan()
        mine, other = plan_action(plan, "1.1.1"), plan_action(plan, "1.1.2")
        for action in (mine, other):
            actionplan.update_action(coordinator, action, porteur="Asso", partners="",
                                     period_start=None, period_end=None, budget_cents=None,
                                     quartier_ids=[q.id], public_ids=[], tag_ids=[])
        db.session.commit()
        make_user("paul@example.org", roles=(("porteur", mine.id),))
        db.session.refresh(member)
        q_mine = councils.ask_question(member, council, mine, "Combien de jeunes ?")
        q_other = councils.ask_question(member, council, other, "Quel calendrier ?")
        db.session.commit()
        return {"mine": mine.id, "other": other.id, "q_mine": q_mine.id,
                "q_other": q_other.id}


def _user(email: str) -> User:
    return db.session.execute(select(User).where(User.email == email)).scalar_one()


def test_service_lets_the_porteur_answer_only_on_their_action(app, setup):
    with app.app_context():
        paul = _user("paul@example.org")
        assert [q.id for q in councils.questions_for_porteur(paul)] == [setup["q_mine"]]
        other = db.session.get(CouncilQuestion, setup["q_other"])
        with pytest.raises(councils.CouncilError):
            councils.answer_question(paul, other, "Bientôt.")
        with pytest.raises(councils.CouncilError):
            councils.answer_question(_user("membre@example.org"), other, "Bientôt.")
        mine = db.session.get(CouncilQuestion, setup["q_mine"])
        councils.answer_question(paul, mine, "Douze.")
        db.session.commit()
        assert mine.answered_by_id == paul.id and other.answered_at is None
        assert councils.questions_for_porteur(paul) == []
        assert [q.id for q in councils.questions_for_porteur(paul, answered=True)] == [mine.id]
        # The coordination team still answers any question.
        councils.answer_question(_user("coord@example.org"), other, "En mars.")
        db.session.commit()
        assert other.answer == "En mars."


def test_porteur_answers_in_the_app_and_the_answer_is_public(app, client, setup):
    login(client, "paul@example.org")
    html = client.get("/conseils-citoyens/mes-questions").get_data(as_text=True)
    assert html.count("<h1>") == 1
    assert "Combien de jeunes ?" in html and "Quel calendrier ?" not in html
    url = f"/conseils-citoyens/mes-questions/{setup['q_mine']}"
    assert post_form(client, url, {"answer": ""}).status_code == 422
    resp = post_form(client, url, {"answer": "Douze, dont six filles."})
    assert resp.status_code == 302 and resp.location.endswith("/conseils-citoyens/mes-questions")
    page = app.test_client().get(f"/plan-d-action/fiche/{setup['mine']}").get_data(
        as_text=True)
    assert "Combien de jeunes ?" in page and "Douze, dont six filles." in page
    html = client.get("/conseils-citoyens/mes-questions").get_data(as_text=True)
    assert "Douze, dont six filles." in html  # under « Déjà répondues »


def test_porteur_gets_403_on_other_questions_and_the_team_pages(app, client, setup):
    login(client, "paul@example.org")
    url = f"/conseils-citoyens/mes-questions/{setup['q_other']}"
    assert client.get(url).status_code == 403
    assert post_form(client, url, {"answer": "Intrus."}, token_page="/").status_code == 403
    assert client.get("/conseils-citoyens/questions").status_code == 403
    assert client.get("/conseils-citoyens/mes-questions/999999").status_code == 404
    with app.app_context():
        assert db.session.get(CouncilQuestion, setup["q_other"]).answered_at is None


def test_others_are_kept_out_of_the_porteur_pages(app, client, setup):
    resp = client.get("/conseils-citoyens/mes-questions")
    assert resp.status_code == 302 and "/compte/connexion" in resp.location
    login(client, "coord@example.org")  # the team keeps its own page
    assert client.get("/conseils-citoyens/mes-questions").status_code == 403
    assert "Quel calendrier ?" in client.get("/conseils-citoyens/questions").get_data(
        as_text=True)
