"""Action-plan services: seed import, status transitions, indicators, progress roll-up."""

from __future__ import annotations

import copy

import pytest
from sqlalchemy import func, select

from civic.accounts.models import AuditEntry
from civic.actionplan import services
from civic.actionplan.models import Plan, PlanNode, StatusChange
from civic.actionplan.seed_data import parse_plan
from civic.actionplan.states import TRANSITIONS, ActionStatus
from civic.extensions import db
from tests.conftest import SMALL_PLAN, make_plan, make_user, plan_action

S = ActionStatus


@pytest.fixture
def coordinator(ctx):
    """A coordinator account."""
    return make_user("coord@example.org", roles=("coordinator",))


def _counts(plan: Plan) -> dict[str, int]:
    counts: dict[str, int] = {}
    for node in plan.nodes:
        counts[node.kind] = counts.get(node.kind, 0) + 1
    return counts


# --- import -----------------------------------------------------------------------------


def test_import_seed_plans_counts_match_the_seed_readme(ctx):
    """The three frameworks arrive with the counts documented in the seeds README."""
    report = services.import_seed_plans()
    db.session.commit()
    plans = {p.slug: p for p in services.list_plans()}
    assert _counts(plans["porte-du-hainaut-contrat-de-ville"]) == {
        "axe": 7, "priorite": 20, "objectif": 50, "mesure": 126}
    assert _counts(plans["le-havre-ensemble"]) == {"priorite": 2, "orientation": 11, "action": 6}
    assert _counts(plans["six-thematiques"]) == {"thematique": 6, "orientation": 5,
                                                  "objectif": 33}
    assert report.plans_created == 3 and report.nodes_created == 7 + 20 + 50 + 126 + 19 + 44
    hainaut = plans["porte-du-hainaut-contrat-de-ville"]
    assert [lv.label for lv in hainaut.levels] == [
        "axe", "priorité", "objectif opérationnel", "mesure-socle"]
    node = next(n for n in hainaut.nodes if n.code == "2.1.3")
    assert node.parent.code == "2.1" and node.parent.parent.code == "2"
    assert len(hainaut.publics) == 6
    le_havre = plans["le-havre-ensemble"]
    assert "not in the source" in le_havre.source_note
    assert [t.label for t in plans["six-thematiques"].tags] == [
        "Égalité femmes-hommes et lutte contre les discriminations",
        "Laïcité, valeurs de la République"]
    demos = next(n for n in le_havre.nodes if n.title == "Orchestre Démos")
    assert demos.is_action and demos.status == S.PLANNED and len(demos.impacts) == 2


def test_import_is_idempotent_and_keeps_what_the_city_recorded(ctx, coordinator):
    """A second import creates nothing, changes nothing, and keeps statuses and porteurs."""
    services.import_seed_plans()
    db.session.commit()
    action = db.session.execute(
        select(PlanNode).where(PlanNode.title == "Les bienveilleurs")).scalar_one()
    services.change_status(coordinator, action, S.IN_PROGRESS, "lancée")
    action.porteur = "CCAS"
    db.session.commit()
    before = db.session.scalar(select(func.count(PlanNode.id)))
    report = services.import_seed_plans()
    db.session.commit()
    assert report.plans_created == report.nodes_created == 0
    assert report.plans_updated == report.nodes_updated == 0
    assert db.session.scalar(select(func.count(PlanNode.id))) == before == 266
    assert db.session.scalar(select(func.count(Plan.id))) == 3
    db.session.refresh(action)
    assert action.status == S.IN_PROGRESS and action.porteur == "CCAS"


def test_import_updates_a_changed_title(ctx):
    """Re-importing an edited seed updates the node in place (same key, same id)."""
    plan = make_plan()
    node_id = plan_action(plan, "1.1.1").id
    data = copy.deepcopy(SMALL_PLAN)
    data["nodes"][0]["children"][0]["children"][0]["title"] = "Action A renommée"
    result = services.import_plan(parse_plan(data, "test.json"))
    db.session.commit()
    assert not result.created and result.nodes_created == 0 and result.nodes_changed == 1
    assert db.session.get(PlanNode, node_id).title == "Action A renommée"


# --- status -----------------------------------------------------------------------------


def test_valid_transition_is_recorded_in_the_timeline_and_audited(ctx, coordinator):
    """Planned → in progress → completed, each step dated, signed and audited."""
    plan = make_plan()
    action = plan_action(plan, "1.1.1")
    services.change_status(coordinator, action, S.IN_PROGRESS, "Démarrage en mars")
    services.change_status(coordinator, action, S.DONE, "")
    db.session.commit()
    assert action.status == S.DONE
    assert [(h.from_status, h.to_status) for h in action.history] == [
        ("planned", "in_progress"), ("in_progress", "done")]
    assert action.history[0].note == "Démarrage en mars"
    assert action.history[0].actor_name == coordinator.display_name
    audits = db.session.execute(
        select(AuditEntry).where(AuditEntry.action == "actionplan.status")).scalars().all()
    assert len(audits) == 2 and "1.1.1: planned -> in_progress" in audits[0].detail


@pytest.mark.parametrize("start, target", [
    (S.PLANNED, S.DONE), (S.PLANNED, S.EVOLVED), (S.DONE, S.IN_PROGRESS),
    (S.ABANDONED, S.PLANNED), (S.PLANNED, S.PLANNED)])
def test_invalid_transition_is_refused_with_a_reason(ctx, coordinator, start, target):
    """A transition outside the table is refused with a translated reason; nothing written."""
    plan = make_plan()
    action = plan_action(plan, "1.1.1")
    action.status = start
    db.session.commit()
    with pytest.raises(services.ActionPlanError) as err:
        services.change_status(coordinator, action, target, "")
    assert err.value.field == "status" and err.value.message
    db.session.rollback()
    assert db.session.scalar(select(func.count(StatusChange.id))) == 0


def test_closed_status_says_so(ctx, coordinator):
    """A completed action explains it is closed."""
    plan = make_plan()
    action = plan_action(plan, "1.1.1")
    action.status = S.DONE
    with pytest.raises(services.ActionPlanError, match="est close"):
        services.change_status(coordinator, action, S.IN_PROGRESS, "")


def test_every_status_is_in_the_transition_table():
    """The table covers every status, and closed statuses lead nowhere."""
    assert set(TRANSITIONS) == set(ActionStatus)
    assert not TRANSITIONS[S.DONE] and not TRANSITIONS[S.ABANDONED]


def test_replacement_links_the_replacing_action(ctx, coordinator):
    """Replaced needs another action of the same plan, and links it."""
    plan = make_plan()
    a, b = plan_action(plan, "1.1.1"), plan_action(plan, "1.1.2")
    with pytest.raises(services.ActionPlanError) as err:
        services.change_status(coordinator, a, S.REPLACED, "")
    assert err.value.field == "replaced_by"
    with pytest.raises(services.ActionPlanError):
        services.change_status(coordinator, a, S.REPLACED, "", replaced_by=a)
    with pytest.raises(services.ActionPlanError):
        services.change_status(coordinator, a, S.IN_PROGRESS, "", replaced_by=b)
    services.change_status(coordinator, a, S.REPLACED, "fusionnée", replaced_by=b)
    db.session.commit()
    assert a.replaced_by_id == b.id and a.status == S.REPLACED


def test_only_actions_have_a_status(ctx, coordinator):
    """An axe or an objective cannot be given a status."""
    plan = make_plan()
    with pytest.raises(services.ActionPlanError, match="Seules les actions"):
        services.change_status(coordinator, plan_action(plan, "1"), S.IN_PROGRESS, "")


def test_parse_status_refuses_unknown_values(ctx):
    """An unknown status name is a form error, not a crash."""
    assert services.parse_status("done") == S.DONE
    with pytest.raises(services.ActionPlanError):
        services.parse_status("finished")


# --- indicators and progress ------------------------------------------------------------


def test_indicator_values_numbers_only(ctx, coordinator):
    """Comma decimals are accepted; words, infinities and empty pairs are refused."""
    plan = make_plan()
    action = plan_action(plan, "1.1.1")
    ind = services.add_indicator(coordinator, action, name="Jeunes accompagnés",
                                 unit="personnes", baseline="", baseline_year=None, source="")
    value = services.record_indicator_value(coordinator, ind, year=2025, target="12,5",
                                            measured=None)
    assert value.target == 12.5 and value.measured is None
    # The measure comes later and keeps the target.
    services.record_indicator_value(coordinator, ind, year=2025, target="", measured="10")
    assert (value.target, value.measured) == (12.5, 10.0)
    for bad in ("beaucoup", "inf", "nan", "1e999", "12..5"):
        with pytest.raises(services.ActionPlanError) as err:
            services.record_indicator_value(coordinator, ind, year=2025, target=None,
                                            measured=bad)
        assert err.value.field == "measured"
    with pytest.raises(services.ActionPlanError) as err:
        services.record_indicator_value(coordinator, ind, year=2025, target="", measured="")
    with pytest.raises(services.ActionPlanError) as err:
        services.record_indicator_value(coordinator, ind, year=3000, target="1", measured="")
    assert err.value.field == "year"
    with pytest.raises(services.ActionPlanError):
        services.add_indicator(coordinator, action, name="x", unit="%", baseline="abc",
                               baseline_year=None, source="")


def test_progress_rolls_up_the_tree(ctx, coordinator):
    """Actions count by status; branches average their children by weight."""
    plan = make_plan()
    a, b, c, d = (plan_action(plan, code) for code in ("1.1.1", "1.1.2", "1.2.1", "2.1"))
    assert services.plan_progress(plan) == 0
    services.change_status(coordinator, a, S.IN_PROGRESS, "")
    services.change_status(coordinator, a, S.DONE, "")
    services.change_status(coordinator, b, S.IN_PROGRESS, "")
    assert services.progress(a) == 100 and services.progress(b) == 50
    assert services.progress(plan_action(plan, "1.1")) == 75
    assert services.progress(plan_action(plan, "1")) == pytest.approx((75 + 0) / 2)
    assert services.plan_progress(plan) == pytest.approx((37.5 + 0) / 2)
    # Weights: objective 1.1 counts three times as much as 1.2.
    plan_action(plan, "1.1").weight = 3
    assert services.progress(plan_action(plan, "1")) == pytest.approx(75 * 3 / 4)
    # Abandoned and replaced actions are left out of the mean.
    services.change_status(coordinator, c, S.ABANDONED, "")
    assert services.progress(plan_action(plan, "1.2")) is None
    assert services.progress(plan_action(plan, "1")) == 75
    services.change_status(coordinator, d, S.REPLACED, "", replaced_by=b)
    assert services.progress(plan_action(plan, "2")) is None
    assert services.plan_progress(plan) == 75


def test_in_progress_action_uses_its_indicators(ctx, coordinator):
    """Measured against target (from the baseline) replaces the flat 50 %."""
    plan = make_plan()
    action = plan_action(plan, "1.1.1")
    services.change_status(coordinator, action, S.IN_PROGRESS, "")
    ind = services.add_indicator(coordinator, action, name="Taux", unit="%", baseline="30",
                                 baseline_year=2023, source="INSEE")
    services.record_indicator_value(coordinator, ind, year=2024, target="20", measured="")
    assert services.progress(action) == 50  # nothing measured yet
    services.record_indicator_value(coordinator, ind, year=2024, target="", measured="25")
    assert services.progress(action) == pytest.approx(50)  # half way from 30 down to 20
    services.record_indicator_value(coordinator, ind, year=2025, target="20", measured="18")
    assert services.progress(action) == 100  # latest year, clamped


def test_update_action_validates_quartiers_budget_and_period(ctx, coordinator):
    """Porteur, budget in cents, quartiers, publics and tags are saved; bad values refused."""
    plan = make_plan()
    action = plan_action(plan, "1.1.1")
    quartier = coordinator.quartier
    services.update_action(
        coordinator, action, porteur=" Centre social ", partners="CAF\n\nMission locale",
        period_start=2024, period_end=2026, budget_cents=services.parse_euros("1 200,50"),
        quartier_ids=[quartier.id], public_ids=[plan.publics[0].id], tag_ids=[plan.tags[0].id])
    assert action.porteur == "Centre social" and action.budget_cents == 120050
    assert action.partner_list == ["CAF", "Mission locale"]
    assert action.quartiers == [quartier] and [p.key for p in action.publics] == ["jeunes"]
    kwargs = dict(porteur=None, partners="", period_start=None, period_end=None,
                  budget_cents=None, quartier_ids=[], public_ids=[], tag_ids=[])
    for field, value in (("quartier_ids", [99999]), ("public_ids", [99999]),
                         ("period_start", 1200), ("budget_cents", -5)):
        with pytest.raises(services.ActionPlanError):
            services.update_action(coordinator, action, **{**kwargs, field: value})
    with pytest.raises(services.ActionPlanError):
        services.parse_euros("douze")


def test_filters_keep_matching_actions_and_their_ancestors(ctx, coordinator):
    """Filtering by status shows the matching actions with the branches above them."""
    plan = make_plan()
    a = plan_action(plan, "1.1.1")
    services.change_status(coordinator, a, S.IN_PROGRESS, "")
    criteria, errors = services.parse_filter(plan, {"statut": "in_progress"})
    assert errors == []
    visible = services.visible_nodes(plan, criteria)
    assert visible == {a.id, a.parent.id, a.parent.parent.id}
    criteria, errors = services.parse_filter(plan, {"statut": "fini", "quartier": "abc",
                                                    "porteur": "Inconnu"})
    assert len(errors) == 3 and not criteria.active
    assert services.visible_nodes(plan, criteria) is None


def test_chart_geometry(ctx, coordinator):
    """Bars are scaled to the largest value; years without values draw nothing."""
    plan = make_plan()
    action = plan_action(plan, "1.1.1")
    ind = services.add_indicator(coordinator, action, name="n", unit="u", baseline=None,
                                 baseline_year=None, source="")
    assert services.indicator_chart(ind) is None
    services.record_indicator_value(coordinator, ind, year=2024, target="40", measured="20")
    services.record_indicator_value(coordinator, ind, year=2025, target="40", measured="")
    db.session.refresh(ind)
    chart = services.indicator_chart(ind)
    assert [(b.year, b.series) for b in chart.bars] == [
        (2024, "target"), (2024, "measured"), (2025, "target")]
    assert chart.bars[0].height == 2 * chart.bars[1].height
