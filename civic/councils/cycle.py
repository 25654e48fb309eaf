"""The yearly programming cycle: calls for projects (criteria, applications with budget and
co-financing, councils' avis, the steering committee's decision) and the yearly evaluation
decision per action. Services validate, change state and flush; the view commits once.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from civic.actionplan import services as actionplan
from civic.actionplan.models import Plan, PlanNode
from civic.actionplan.seed_data import load_seed_plans
from civic.actionplan.states import ActionStatus
from civic.audit import audit
from civic.councils.models import (
    ApplicationAvis,
    CallApplication,
    Decision,
    EvaluationDecision,
    Opinion,
    Outcome,
    ProjectCall,
)
from civic.councils.services import CouncilError, clean_text, member_council, today
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
