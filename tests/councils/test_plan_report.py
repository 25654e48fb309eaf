"""The whole plan's yearly evaluation report: statuses at year end, indicators against
targets, evaluation decisions with the councils' avis, participation; page and CSV."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime

import pytest

from civic.actionplan import services as actionplan
from civic.actionplan.states import ActionStatus, ParticipationStage
from civic.councils import cycle
from civic.councils import services as councils
from civic.extensions import db
from tests.conftest import make_council, make_plan, make_territory, make_user, plan_action


@pytest.fixture
def plan_id(app):
    """The small plan with a year of life: A started in 2024 and finished in 2026, B was
    evaluated in 2025 with a council's avis, A has an indicator and a participation."""
    with app.test_request_context():
        q = make_territory()
        council = make_council(q)
        coord = make_user("coord@example.org", roles=("coordinator",))
        member = make_user("membre@example.org", roles=(("council_member", council.id),))
        plan = make_plan()
        a, b = plan_action(plan, "1.1.1"), plan_action(plan, "1.1.2")
        for action in (a, b):
            actionplan.update_action(coord, action, porteur="Ville", partners="",
                                     period_start=None, period_end=None, budget_cents=None,
                                     quartier_ids=[q.id], public_ids=[], tag_ids=[])
        started = actionplan.change_status(coord, a, ActionStatus.IN_PROGRESS, "Lancée")
        started.at = datetime(2024, 3, 1, 9, 0)
        done = actionplan.change_status(coord, a, ActionStatus.DONE, "Terminée")
        done.at = datetime(2026, 2, 1, 9, 0)
        ind = actionplan.add_indicator(coord, a, name="Jeunes accompagnés", unit="personnes",
                                       baseline=None, baseline_year=None, source="")
        actionplan.record_indicator_value(coord, ind, year=2025, target=80, measured=60)
        actionplan.record_indicator_value(coord, ind, year=2026, target=100, measured=None)
        actionplan.add_indicator(coord, b, name="Ateliers", unit="ateliers", baseline=None,
                                 baseline_year=None, source="")
        actionplan.record_participation(coord, a, stage="core", held_on=date(2025, 5, 4),
                                        participants=25, description="Chantier")
        actionplan.record_participation(coord, a, stage="core", held_on=date(2024, 5, 4),
                                        participants=99, description="Année d'avant")
        councils.give_avis(member, council, b, opinion="reserved", rating=3,
                           text="Trop peu de créneaux le soir")
        cycle.record_evaluation(coord, b, year=2025, outcome="continue",
                                reasons="Bonne fréquentation", replaced_by=None)
        db.session.commit()
        return plan.id


def test_report_reads_statuses_indicators_decisions_and_participation(app, plan_id):
    """2025: A in progress (its completion came in 2026), B evaluated with the avis beside."""
    with app.test_request_context():
        plan = actionplan.get_plan(plan_id)
        report = cycle.plan_report(plan, 2025)
        by_code = {r.action.code: r for r in report.rows}
        assert by_code["1.1.1"].status == ActionStatus.IN_PROGRESS
        assert cycle.plan_report(plan, 2023).rows[0].status == ActionStatus.PLANNED
        assert cycle.plan_report(plan, 2026).rows[0].status == ActionStatus.DONE
        counts = dict(report.status_counts)
        assert counts[ActionStatus.IN_PROGRESS] == 1 and counts[ActionStatus.PLANNED] == 3
        line = by_code["1.1.1"].indicators[0]
        assert (line.target, line.measured, line.reached) == (80, 60, 75)
        assert report.indicators_without_value == 1  # B's indicator
        assert [r.action.code for r in report.evaluated] == ["1.1.2"]
        assert by_code["1.1.2"].avis[0].text == "Trop peu de créneaux le soir"
        totals = {stage: (n, people) for stage, n, people in report.participation_totals()}
        assert totals[ParticipationStage.CORE] == (1, 25)
        assert [r.action.code for r in report.rows] == ["1.1.1", "1.1.2", "1.2.1", "2.1"]


def test_report_page_is_public_and_accessible_without_javascript(client, plan_id):
    """Tables with headers, the decision with the avis, links to other years and the CSV."""
    html = client.get(f"/plan-d-action/{plan_id}/bilan?annee=2025").get_data(as_text=True)
    assert html.count("<h1>") == 1 and "Bilan d’évaluation annuel 2025" in html.replace(
        "'", "’")
    assert "Trop peu de créneaux le soir" in html and "Bonne fréquentation" in html
    assert '<th scope="row">Jeunes accompagnés (personnes)</th>' in html
    assert "75" in html and "<script" not in html.split("<main")[1]
    assert f"/plan-d-action/{plan_id}/bilan.csv?annee=2025" in html
    assert f"/plan-d-action/{plan_id}/bilan?annee=2024" in html
    assert f'href="/plan-d-action/{plan_id}/bilan"' in client.get(
        f"/plan-d-action/{plan_id}").get_data(as_text=True)


@pytest.mark.parametrize("year", ["1999", "abc", "20255", "-1"])
def test_report_refuses_odd_years_with_a_404(client, plan_id, year):
    """Years outside 2000–2100 or not a year at all: 404, never a 500."""
    assert client.get(f"/plan-d-action/{plan_id}/bilan?annee={year}").status_code == 404
    assert client.get(f"/plan-d-action/{plan_id}/bilan.csv?annee={year}").status_code == 404
    assert client.get("/plan-d-action/999999/bilan").status_code == 404


def test_report_csv_has_one_line_per_action_and_indicator(client, plan_id):
    """The CSV repeats the page's figures in a table a spreadsheet opens."""
    resp = client.get(f"/plan-d-action/{plan_id}/bilan.csv?annee=2025")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    assert "plan-de-test-bilan-2025.csv" in resp.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(resp.data.decode("utf-8-sig")), delimiter=";"))
    assert [r["code"] for r in rows] == ["1.1.1", "1.1.2", "1.2.1", "2.1"]
    a, b = rows[0], rows[1]
    assert (a["indicator"], a["target"], a["measured"], a["reached_percent"]) == (
        "Jeunes accompagnés", "80", "60", "75")
    assert a["status"] == "in_progress" and a["participants_core"] == "25"
    assert b["evaluation"] == "continue" and "Trop peu de créneaux" in b["council_avis"]
    assert b["indicator"] == ""


def test_readme_lists_the_report_columns():
    """The documented report columns are the ones the CSV writes."""
    from pathlib import Path

    readme = (Path(cycle.__file__).parents[1] / "actionplan" / "README.md").read_text(
        encoding="utf-8")
    assert "`" + ";".join(cycle.REPORT_COLUMNS) + "`" in readme
