"""The yearly programming cycle: calls for projects (criteria, applications with budget and
co-financing, councils' avis, the steering committee's decision) and the yearly evaluation
decision per action. Services validate, change state and flush; the view commits once.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from civic.actionplan import services as actionplan
from civic.actionplan.models import Indicator, Plan, PlanNode, StatusChange
from civic.actionplan.seed_data import load_seed_plans
from civic.actionplan.states import ActionStatus, ParticipationStage
from civic.audit import audit
from civic.councils.models import (
    ApplicationAvis,
    CallApplication,
    CouncilAvis,
    Decision,
    EvaluationDecision,
    Opinion,
    Outcome,
    ProjectCall,
)
from civic.councils.services import (
    CouncilError,
    clean_text,
    local_to_utc,
    member_council,
    today,
)
from civic.extensions import db
from civic.territory.models import Council, Quartier
from civic.timeutil import utcnow

# The seed's ceiling (Porte du Hainaut, 2017): « un taux de participation pouvant aller
# jusqu'à 80 % des dépenses éligibles » for innovative actions.
DEFAULT_MAX_COFINANCING = 80
MAX_CENTS = 10**11  # a billion euros: beyond, the figure is a typing error


def seed_call_defaults(plan: Plan) -> tuple[list[str], int]:
    """The call criteria and co-financing ceiling the plan's seed publishes, if any."""
    for seed in load_seed_plans():
        if seed.slug == plan.slug:
            meta = seed.metadata or {}
            criteria = list((meta.get("call_criteria") or {}).get("criteria") or [])
            ceiling = (meta.get("cofinancing") or {}).get("max_percent")
            return criteria, ceiling if isinstance(ceiling, int) else DEFAULT_MAX_COFINANCING
    return [], DEFAULT_MAX_COFINANCING


def open_call(actor: Any, plan: Plan, *, year: int | None, title: str | None,
              criteria: str | None, max_cofinancing_percent: int | None,
              closes_on: date | None) -> ProjectCall:
    """Publish a plan's yearly call for projects with its criteria."""
    if year is None or not actionplan.MIN_YEAR <= year <= actionplan.MAX_YEAR:
        raise CouncilError(_("Enter a year between %(a)d and %(b)d.", a=actionplan.MIN_YEAR,
                             b=actionplan.MAX_YEAR), "year")
    if db.session.execute(select(ProjectCall).where(
            ProjectCall.plan_id == plan.id, ProjectCall.year == year)).scalar():
        raise CouncilError(_("This plan already has a call for this year."), "year")
    lines = [c.strip() for c in (criteria or "").splitlines() if c.strip()]
    if not lines:
        raise CouncilError(_("Publish at least one criterion."), "criteria")
    ceiling = max_cofinancing_percent or DEFAULT_MAX_COFINANCING
    if not 1 <= ceiling <= 100:
        raise CouncilError(_("Enter a percentage between 1 and 100."), "max_cofinancing_percent")
    if closes_on is None or closes_on < today():
        raise CouncilError(_("The call must close today or later."), "closes_on")
    call = ProjectCall(plan=plan, year=year, title=clean_text(title, "title", 255),
                       criteria=clean_text("\n".join(lines), "criteria", 5000),
                       max_cofinancing_percent=ceiling, closes_on=closes_on)
    db.session.add(call)
    audit(actor, "cycle.call", None, f"{plan.slug} {year}")
    db.session.flush()
    return call


def apply_to_call(user: Any, call: ProjectCall, *, porteur: str | None, title: str | None,
                  description: str | None, quartier_id: int | None, budget_cents: int | None,
                  requested_cents: int | None) -> CallApplication:
    """Submit an action proposal; the requested co-financing stays within the call's ceiling."""
    if call.closes_on < today():
        raise CouncilError(_("This call closed on %(date)s.", date=call.closes_on.isoformat()))
    if budget_cents is None or not 0 < budget_cents <= MAX_CENTS:
        raise CouncilError(_("Enter the action's total budget in euros."), "budget")
    if requested_cents is None or not 0 < requested_cents <= MAX_CENTS:
        raise CouncilError(_("Enter the amount requested in euros."), "requested")
    if requested_cents * 100 > budget_cents * call.max_cofinancing_percent:
        raise CouncilError(_("The call co-finances at most %(num)d %% of the budget: request "
                             "%(max)s euros or less.", num=call.max_cofinancing_percent,
                             max=f"{budget_cents * call.max_cofinancing_percent / 10000:.2f}"),
                           "requested")
    if quartier_id is not None and db.session.get(Quartier, quartier_id) is None:
        raise CouncilError(_("Choose a quartier from the list."), "quartier_id")
    application = CallApplication(
        call=call, applicant_id=getattr(user, "id", None),
        porteur=clean_text(porteur, "porteur", 160), title=clean_text(title, "title", 255),
        description=clean_text(description, "description", 5000), quartier_id=quartier_id,
        budget_cents=budget_cents, requested_cents=requested_cents)
    db.session.add(application)
    audit(user, "cycle.application", None, f"call {call.id}: {application.title}")
    db.session.flush()
    return application


def councils_for(application: CallApplication) -> list[Council]:
    """Councils asked for their avis: the application's quartier's, or all without one."""
    stmt = select(Council).order_by(Council.name)
    if application.quartier_id is not None:
        stmt = stmt.where(Council.quartier_id == application.quartier_id)
    return list(db.session.execute(stmt).scalars())


def give_application_avis(user: Any, council: Council, application: CallApplication, *,
                          opinion: str | None, text: str | None) -> ApplicationAvis:
    """A council's avis on an application of its quartier (before the decision)."""
    member_council(user, council)
    if council not in councils_for(application):
        raise CouncilError(_("This application does not concern your council's quartier."))
    if application.decision is not None:
        raise CouncilError(_("The committee has decided: avis are closed."))
    try:
        the_opinion = Opinion(opinion)
    except ValueError as exc:
        raise CouncilError(_("Choose favourable, reserved or unfavourable."), "opinion") from exc
    body = clean_text(text, "text", 4000)
    avis = next((a for a in application.avis if a.council_id == council.id), None)
    if avis is None:
        avis = ApplicationAvis(application=application, council=council)
        db.session.add(avis)
    avis.opinion, avis.text, avis.author_id, avis.at = the_opinion, body, user.id, utcnow()
    audit(user, "cycle.application_avis", None, f"{council.name} on application "
                                                f"{application.id}: {the_opinion.value}")
    db.session.flush()
    return avis


def decide(actor: Any, application: CallApplication, *, decision: str | None,
           reasons: str | None, committee: str | None) -> None:
    """Record the steering committee's decision, with its reasons and who sat on it."""
    if application.decision is not None:
        raise CouncilError(_("This application has already been decided."), "decision")
    try:
        the_decision = Decision(decision)
    except ValueError as exc:
        raise CouncilError(_("Choose selected or not selected."), "decision") from exc
    application.decision = the_decision
    application.decision_reasons = clean_text(reasons, "reasons", 4000)
    # « La Loi prévoit une représentation citoyenne au sein des instances de pilotage. »
    application.committee = clean_text(committee, "committee", 1000)
    application.decided_at = utcnow()
    application.decided_by_id = getattr(actor, "id", None)
    audit(actor, "cycle.decision", None, f"application {application.id}: {the_decision.value}")
    db.session.flush()


# The status an evaluation outcome gives the action, through the transition table.
OUTCOME_STATUS = {Outcome.EVOLVE: ActionStatus.EVOLVED, Outcome.REPLACE: ActionStatus.REPLACED,
                  Outcome.STOP: ActionStatus.ABANDONED}


def record_evaluation(actor: Any, action: PlanNode, *, year: int | None, outcome: str | None,
                      reasons: str | None, replaced_by: PlanNode | None) -> EvaluationDecision:
    """Record the yearly evaluation's decision on an action and apply its status.

    Continue keeps the status; evolve, replace and stop move the action through the
    transition table (a refused move refuses the decision: nothing is half-written).
    Stopping an action already completed only records the decision.
    """
    if year is None or not actionplan.MIN_YEAR <= year <= actionplan.MAX_YEAR:
        raise CouncilError(_("Enter a year between %(a)d and %(b)d.", a=actionplan.MIN_YEAR,
                             b=actionplan.MAX_YEAR), "year")
    try:
        the_outcome = Outcome(outcome)
    except ValueError as exc:
        raise CouncilError(_("Choose a decision from the list."), "outcome") from exc
    if db.session.execute(select(EvaluationDecision).where(
            EvaluationDecision.node_id == action.id, EvaluationDecision.year == year)).scalar():
        raise CouncilError(_("This action already has a decision for this year."), "year")
    body = clean_text(reasons, "reasons", 4000)
    status = OUTCOME_STATUS.get(the_outcome)
    if the_outcome == Outcome.STOP and action.status == ActionStatus.DONE:
        status = None
    if status is not None:
        note = _("Yearly evaluation %(year)d: %(reasons)s", year=year, reasons=body)
        try:
            actionplan.change_status(actor, action, status, note[:2000],
                                     replaced_by=replaced_by)
        except actionplan.ActionPlanError as exc:
            raise CouncilError(exc.message, "replaced_by" if exc.field == "replaced_by"
                               else "outcome") from exc
    elif replaced_by is not None:
        raise CouncilError(_("Only a replaced action names the action that replaces it."),
                           "replaced_by")
    decision = EvaluationDecision(node=action, year=year, outcome=the_outcome, reasons=body,
                                  replaced_by=replaced_by if the_outcome == Outcome.REPLACE
                                  else None, decided_by_id=getattr(actor, "id", None))
    db.session.add(decision)
    audit(actor, "cycle.evaluation", None,
          f"{action.plan.slug} {action.code or action.key} {year}: {the_outcome.value}")
    db.session.flush()
    return decision


def evaluations_of(action: PlanNode) -> list[EvaluationDecision]:
    """An action's yearly evaluation decisions, latest year first."""
    return list(db.session.execute(select(EvaluationDecision).where(
        EvaluationDecision.node_id == action.id).order_by(EvaluationDecision.year.desc())
    ).scalars())


def list_calls() -> list[ProjectCall]:
    """Every call, latest year first."""
    return list(db.session.execute(
        select(ProjectCall).order_by(ProjectCall.year.desc(), ProjectCall.id)).scalars())


# --- the whole plan's yearly evaluation report ------------------------------------------


@dataclass(frozen=True)
class IndicatorLine:
    """One indicator of an action in the report's year: target, measured, percent reached."""

    indicator: Indicator
    target: float | None
    measured: float | None
    reached: float | None


@dataclass(frozen=True)
class PlanReportRow:
    """One action in the whole plan's yearly report."""

    action: PlanNode
    status: ActionStatus  # on 31 December of the year (from the timeline)
    indicators: list[IndicatorLine]  # those with a value for the year
    evaluation: EvaluationDecision | None
    avis: list[CouncilAvis]
    participants: dict[ParticipationStage, int]  # residents who took part in the year


@dataclass(frozen=True)
class PlanReport:
    """The yearly evaluation of a whole plan (« évaluer l'impact … en termes qualitatifs et
    quantitatifs »): statuses, indicators against targets, decisions with the councils' avis."""

    plan: Plan
    year: int
    rows: list[PlanReportRow]
    status_counts: list[tuple[ActionStatus, int]]
    indicators_without_value: int

    @property
    def evaluated(self) -> list[PlanReportRow]:
        """The actions with an evaluation decision for the year."""
        return [r for r in self.rows if r.evaluation is not None]

    @property
    def measured(self) -> list[PlanReportRow]:
        """The actions with at least one indicator value for the year."""
        return [r for r in self.rows if r.indicators]

    def participation_totals(self) -> list[tuple[ParticipationStage, int, int]]:
        """Per stage: how many records in the year, how many participants."""
        return [(stage, sum(1 for r in self.rows for e in r.action.participations
                            if e.stage == stage and e.held_on.year == self.year),
                 sum(r.participants[stage] for r in self.rows))
                for stage in ParticipationStage]


def status_at_year_end(action: PlanNode, history: list[StatusChange], year: int
                       ) -> ActionStatus:
    """The action's status on 31 December of ``year`` (Paris time), read from its timeline.

    The last change dated before the new year gives it; failing that, the status the first
    later change moved away from; an action without timeline has its current status.
    """
    end = local_to_utc(date(year + 1, 1, 1), "00:00")
    before = [h for h in history if h.at < end]
    if before:
        return before[-1].to
    if history:
        return history[0].previous
    return action.status


def plan_report(plan: Plan, year: int) -> PlanReport:
    """The whole plan's report for a year, read in a few queries."""
    actions = [n for n in plan.nodes if n.is_action]
    ids = [a.id for a in actions]
    history: dict[int, list[StatusChange]] = {i: [] for i in ids}
    evaluations: dict[int, EvaluationDecision] = {}
    avis: dict[int, list[CouncilAvis]] = {i: [] for i in ids}
    if ids:
        for change in db.session.execute(select(StatusChange).where(
                StatusChange.node_id.in_(ids)).order_by(StatusChange.at, StatusChange.id)
                ).scalars():
            history[change.node_id].append(change)
        for decision in db.session.execute(select(EvaluationDecision).where(
                EvaluationDecision.node_id.in_(ids), EvaluationDecision.year == year)
                ).scalars():
            evaluations[decision.node_id] = decision
        for opinion in db.session.execute(select(CouncilAvis).where(
                CouncilAvis.node_id.in_(ids)).order_by(CouncilAvis.at)).scalars():
            avis[opinion.node_id].append(opinion)
    rows, without_value = [], 0
    for action in sorted(actions, key=_tree_order(plan)):
        lines = []
        for indicator in action.indicators:
            value = next((v for v in indicator.values if v.year == year), None)
            if value is None:
                without_value += 1
                continue
            lines.append(IndicatorLine(indicator, value.target, value.measured,
                                       actionplan.reached_percent(indicator, value.target,
                                                                  value.measured)))
        participants = {stage: sum(e.participants for e in action.participations
                                   if e.stage == stage and e.held_on.year == year)
                        for stage in ParticipationStage}
        rows.append(PlanReportRow(action, status_at_year_end(action, history[action.id], year),
                                  lines, evaluations.get(action.id), avis[action.id],
                                  participants))
    counts = [(status, sum(1 for r in rows if r.status == status)) for status in ActionStatus]
    return PlanReport(plan, year, rows, counts, without_value)


def _tree_order(plan: Plan) -> Any:
    """A sort key putting nodes in the order of the tree (depth first, by position)."""
    by_id = {n.id: n for n in plan.nodes}

    def key(node: PlanNode) -> list[int]:
        path = []
        current: PlanNode | None = node
        while current is not None:
            path.insert(0, current.position)
            current = by_id.get(current.parent_id) if current.parent_id else None
        return path

    return key


REPORT_COLUMNS = (
    "year", "action_key", "code", "action", "porteur", "status", "status_label", "indicator",
    "unit", "target", "measured", "reached_percent", "evaluation", "evaluation_label",
    "evaluation_reasons", "replaced_by", "council_avis", "participants_start",
    "participants_core", "participants_end",
)


def plan_report_csv(report: PlanReport) -> bytes:
    """The report as CSV (UTF-8 with BOM, ``;``): one line per action and indicator."""
    from civic.actionplan.csvio import format_number

    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, fieldnames=REPORT_COLUMNS, delimiter=";",
                            lineterminator="\r\n")
    writer.writeheader()
    for row in report.rows:
        action, evaluation = row.action, row.evaluation
        common = {
            "year": report.year, "action_key": action.key, "code": action.code or "",
            "action": action.title, "porteur": action.porteur or "",
            "status": row.status.value, "status_label": row.status.title,
            "evaluation": evaluation.outcome.value if evaluation else "",
            "evaluation_label": evaluation.outcome.title if evaluation else "",
            "evaluation_reasons": evaluation.reasons if evaluation else "",
            "replaced_by": (evaluation.replaced_by.key
                            if evaluation and evaluation.replaced_by else ""),
            "council_avis": " | ".join(
                f"{a.council.name}: {a.opinion.title} ({a.rating}/5) {a.text}"
                for a in row.avis),
            "participants_start": row.participants[ParticipationStage.START],
            "participants_core": row.participants[ParticipationStage.CORE],
            "participants_end": row.participants[ParticipationStage.END],
        }
        for line in row.indicators or [None]:
            writer.writerow({**common, **({
                "indicator": line.indicator.name, "unit": line.indicator.unit,
                "target": format_number(line.target),
                "measured": format_number(line.measured),
                "reached_percent": "" if line.reached is None else f"{line.reached:.0f}",
            } if line else {})})
    return out.getvalue().encode("utf-8-sig")
