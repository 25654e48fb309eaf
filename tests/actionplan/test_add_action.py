"""add_action: the service other domains (the budget's winners) use to add an action."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from civic.actionplan import csvio, services
from civic.actionplan.models import PlanNode
from civic.actionplan.states import ActionStatus
from civic.extensions import db
from tests.conftest import make_plan, make_territory, plan_action


def test_add_action_appends_a_planned_action_with_its_origin(ctx):
    """At the end of the branch, planned, with porteur, budget, quartier and a link back;
    the CSV round trip keeps the link; the same key cannot be added twice."""
    q = make_territory()
    plan = make_plan()
    branch = plan_action(plan, "1.1")
    action = services.add_action(None, plan, branch, title="Jardin partagé",
                                 key="budget-2026-p12", porteur="Association Les Pousses",
                                 budget_cents=1_500_000, quartier_ids=[q.id],
                                 expected_impact=["Un jardin ouvert à tous"],
                                 source_url="/budget-participatif/propositions/12")
    db.session.commit()
    assert action.is_action and action.status == ActionStatus.PLANNED
    assert [c.title for c in branch.children][-1] == "Jardin partagé"
    assert action.position == max(c.position for c in branch.children)
    assert action.quartiers == [q] and action.budget_cents == 1_500_000
    assert action.impacts == ["Un jardin ouvert à tous"]
    data = csvio.export_plan_csv(plan)
    assert b"/budget-participatif/propositions/12" in data
    copy = csvio.import_plan_csv(None, data, slug="copie")
    db.session.commit()
    assert csvio.export_plan_csv(copy) == data
    before = db.session.scalar(select(func.count(PlanNode.id)))
    with pytest.raises(services.ActionPlanError) as caught:
        services.add_action(None, plan, branch, title="Encore", key="budget-2026-p12")
    assert caught.value.field == "key"
    assert db.session.scalar(select(func.count(PlanNode.id))) == before


@pytest.mark.parametrize(("change", "field"), [
    ({"title": " "}, "title"),
    ({"source_url": "javascript:alert(1)"}, "source_url"),
    ({"source_url": "//evil.example/x"}, "source_url"),
    ({"code": "1.1.1"}, "code"),
    ({"budget_cents": -5}, "budget"),
])
def test_add_action_refuses_bad_input(ctx, change, field):
    """Empty title, a script or protocol-relative link, a taken code, a negative budget."""
    plan = make_plan()
    with pytest.raises(services.ActionPlanError) as caught:
        services.add_action(None, plan, plan_action(plan, "1.1"),
                            **{"title": "Action", **change})
    assert caught.value.field == field


def test_add_action_needs_a_branch_of_the_same_plan(ctx):
    """Not under an action, not under another plan's node; at top level it is allowed."""
    plan, other = make_plan(), make_plan(slug="autre")
    for parent in (plan_action(plan, "1.1.1"), plan_action(other, "1.1")):
        with pytest.raises(services.ActionPlanError):
            services.add_action(None, plan, parent, title="Action")
    top = services.add_action(None, plan, None, title="Action hors axe")
    assert top.parent is None and top.key == "plan-de-test#3"


def test_action_page_links_to_the_origin(app, client):
    """The action page shows where the action comes from."""
    with app.app_context():
        plan = make_plan()
        action = services.add_action(None, plan, plan_action(plan, "1.1"), title="Jardin",
                                     source_url="https://ville.example/budget/12")
        db.session.commit()
        node_id = action.id
    html = client.get(f"/plan-d-action/fiche/{node_id}").get_data(as_text=True)
    assert '<a href="https://ville.example/budget/12">' in html
