"""Feasibility review: assignment to city services, verdicts, the coordinator's review and
publication, the author's replies, and the dashboard.

Scope rule: an agent acts on, and reads the internal notes of, their own services' reviews
only (``user.scopes("agent")``); coordinators see everything; residents never see notes.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from civic.accounts.models import User
from civic.audit import audit
from civic.budgeting.models import Campaign, Proposal, Theme
from civic.budgeting.services import (
    MAX_AMOUNT_CENTS,
    BudgetError,
    NotYours,
    euros,
    transition,
)
from civic.budgeting.states import Phase, ProposalStatus
from civic.extensions import db
from civic.permissions import user_can
from civic.review.models import FeasibilityReview, FeasibilityVerdict
from civic.territory.models import CityService, Quartier
from civic.timeutil import utcnow

S = ProposalStatus
V = FeasibilityVerdict
# Services may start studying as soon as proposals arrive; answers stop when the vote opens.
REVIEW_PHASES = (Phase.SUBMISSION, Phase.REVIEW)


def _check_review_phase(campaign: Campaign) -> None:
    if campaign.phase() not in REVIEW_PHASES:
        raise BudgetError(_("The feasibility review is closed for this campaign (now: "
                            "%(phase)s).", phase=campaign.phase().title))


def assign_services(actor: User, proposal: Proposal, service_ids: Iterable[int]) -> int:
    """Ask services to study a proposal; a submitted one goes under review. Returns how
    many services were added."""
    _check_review_phase(proposal.campaign)
    ids = sorted(set(service_ids))
    if not ids:
        raise BudgetError(_("Choose at least one service."), "service_ids")
    if proposal.state not in (S.SUBMITTED, S.UNDER_REVIEW, S.NEEDS_INFO):
        raise BudgetError(_("A proposal whose status is “%(status)s” cannot be sent to a "
                            "service.", status=proposal.state.title))
    known = set(db.session.execute(select(CityService.id).where(CityService.id.in_(ids)))
                .scalars())
    if known != set(ids):
        raise BudgetError(_("Choose services from the list."), "service_ids")
    existing = {r.service_id for r in reviews_of(proposal)}
    added = 0
    for sid in ids:
        if sid not in existing:
            db.session.add(FeasibilityReview(proposal_id=proposal.id, service_id=sid,
                                             assigned_by_id=actor.id))
            added += 1
    db.session.flush()
    if proposal.state is S.SUBMITTED:
        transition(proposal, S.UNDER_REVIEW, actor,
                   _("Sent to the city services for a feasibility study."))
    if added:
        audit(actor, "review.assigned", None,
              f"proposal {proposal.id} → services {','.join(map(str, ids))}")
    return added


def assign_by_theme(actor: User, campaign: Campaign, theme_id: int,
                    service_ids: Iterable[int]) -> int:
    """Send every submitted proposal of a theme to services; returns how many proposals."""
    theme = db.session.get(Theme, theme_id)
    if theme is None or theme.campaign_id != campaign.id:
        raise BudgetError(_("Choose a theme from the list."), "theme_id")
    ids = list(service_ids)
    if not ids:
        raise BudgetError(_("Choose at least one service."), "service_ids")
    proposals = db.session.execute(select(Proposal).where(
        Proposal.campaign_id == campaign.id, Proposal.theme_id == theme.id,
        Proposal.status == S.SUBMITTED.value).order_by(Proposal.id)).scalars().all()
    for proposal in proposals:
        assign_services(actor, proposal, ids)
    return len(proposals)


def reviews_of(proposal: Proposal) -> list[FeasibilityReview]:
    """The proposal's reviews, by service name."""
    return list(db.session.execute(
        select(FeasibilityReview).join(CityService)
        .where(FeasibilityReview.proposal_id == proposal.id).order_by(CityService.name)
    ).scalars())


def can_read_notes(user: Any, review: FeasibilityReview) -> bool:
    """Internal notes: the coordination team, and the agents of that service only."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user_can(user, "budget.manage"):
        return True
    return review.service_id in user.scopes("agent")


def check_agent_scope(user: User, review: FeasibilityReview) -> None:
    """Refuse (403 in the view) an agent acting on another service's review."""
    if review.service_id not in user.scopes("agent"):
        raise NotYours(_("This proposal is assigned to another service."))


@dataclass(frozen=True)
class VerdictData:
    """What an agent records (cost in cents)."""

    verdict: str
    public_explanation: str
    validated_cost_cents: int | None
    duration_weeks: int | None
    internal_notes: str = ""


def record_feasibility(agent: User, review: FeasibilityReview, data: VerdictData) -> None:
    """An agent records their service's verdict; it waits for the coordinator's review."""
    check_agent_scope(agent, review)
    proposal = review.proposal
    _check_review_phase(proposal.campaign)
    if proposal.state is not S.UNDER_REVIEW:
        raise BudgetError(_("This proposal is not under review (status: %(status)s).",
                            status=proposal.state.title))
    if review.published_at is not None:
        raise BudgetError(_("This answer has been published: it can no longer be changed."))
    try:
        verdict = V(data.verdict)
    except ValueError as exc:
        raise BudgetError(_("Choose a verdict."), "verdict") from exc
    explanation = data.public_explanation.strip()
    if len(explanation) > 5000 or len(data.internal_notes) > 5000:
        raise BudgetError(_("At most 5,000 characters."), "public_explanation")
    cost = data.validated_cost_cents
    if verdict is V.FEASIBLE:
        if cost is None:
            raise BudgetError(_("A feasible project needs a validated cost."),
                              "validated_cost")
    if cost is not None:
        if cost <= 0:
            raise BudgetError(_("Enter a positive cost."), "validated_cost")
        ceiling = min(MAX_AMOUNT_CENTS, proposal.campaign.total_cents)
        if cost > ceiling:
            raise BudgetError(_("This cost is more than the campaign's whole budget "
                                "(%(amount)s): check the amount.", amount=euros(ceiling)),
                              "validated_cost")
    if verdict is V.UNFEASIBLE and len(explanation) < 10:
        raise BudgetError(_("Explain to the author, in a few sentences, why the project is "
                            "not feasible."), "public_explanation")
    if verdict is V.NEEDS_INFO and len(explanation) < 10:
        raise BudgetError(_("Write the question to ask the author."), "public_explanation")
    if data.duration_weeks is not None and not (1 <= data.duration_weeks <= 520):
        raise BudgetError(_("Enter a duration between 1 and 520 weeks."), "duration_weeks")
    review.verdict = verdict.value
    review.public_explanation = explanation
    review.validated_cost_cents = cost if verdict is V.FEASIBLE else None
    review.duration_weeks = data.duration_weeks if verdict is V.FEASIBLE else None
    review.internal_notes = data.internal_notes.strip()
    review.decided_at = utcnow()
    review.decided_by_id = agent.id
    db.session.flush()


def queue_for(user: User) -> list[FeasibilityReview]:
    """An agent's work queue: their services' reviews awaiting a verdict or publication,
    oldest first."""
    scopes = user.scopes("agent")
    if not scopes:
        return []
    return list(db.session.execute(
        select(FeasibilityReview).join(Proposal)
        .where(FeasibilityReview.service_id.in_(scopes),
               FeasibilityReview.published_at.is_(None),
               Proposal.status.in_([S.UNDER_REVIEW.value]))
        .order_by(FeasibilityReview.assigned_at, FeasibilityReview.id)
    ).scalars())


def waiting_since(review: FeasibilityReview) -> datetime:
    """Since when the review waits (the author's reply restarts the clock)."""
    return review.assigned_at


@dataclass(frozen=True)
class CombinedAnswer:
    """The city's one answer, built from the services' verdicts."""

    verdict: FeasibilityVerdict
    explanation: str
    cost_cents: int | None
    duration_weeks: int | None


def combined_answer(proposal: Proposal) -> CombinedAnswer | None:
    """None while a service has not answered. A question wins over the rest (the author
    must answer first); any "not feasible" makes the project not feasible; otherwise the
    costs add up and the longest duration counts."""
    reviews = reviews_of(proposal)
    if not reviews or any(r.verdict is None for r in reviews):
        return None
    verdicts = {r.verdict_enum for r in reviews}
    for v in (V.NEEDS_INFO, V.UNFEASIBLE):
        if v in verdicts:
            text = "\n\n".join(f"{r.service.name} : {r.public_explanation}" for r in reviews
                               if r.verdict_enum is v)
            return CombinedAnswer(v, text, None, None)
    text = "\n\n".join(f"{r.service.name} : {r.public_explanation}" for r in reviews
                       if r.public_explanation)
    durations = [r.duration_weeks for r in reviews if r.duration_weeks]
    return CombinedAnswer(V.FEASIBLE, text, sum(r.validated_cost_cents or 0 for r in reviews),
                          max(durations) if durations else None)


def pending_publication(campaign: Campaign) -> list[tuple[Proposal, CombinedAnswer]]:
    """Proposals every assigned service has answered, waiting for the coordinator."""
    out = []
    for proposal in db.session.execute(select(Proposal).where(
            Proposal.campaign_id == campaign.id, Proposal.status == S.UNDER_REVIEW.value)
            .order_by(Proposal.id)).scalars():
        answer = combined_answer(proposal)
        if answer is not None:
            out.append((proposal, answer))
    return out


def publish_answers(actor: User, campaign: Campaign, proposal_ids: Iterable[int]) -> int:
    """The coordinator publishes the answers of the chosen proposals (one consistent answer
    each); authors and followers are told. Returns how many were published."""
    _check_review_phase(campaign)
    ids = set(proposal_ids)
    if not ids:
        raise BudgetError(_("Tick at least one proposal to publish."), "proposal_ids")
    ready = {p.id: (p, a) for p, a in pending_publication(campaign)}
    if not ids <= set(ready):
        raise BudgetError(_("Some of these proposals are not ready to be published any "
                            "more: reload the page."), "proposal_ids")
    now = utcnow()
    for pid in sorted(ids):
        proposal, answer = ready[pid]
        for review in reviews_of(proposal):
            review.published_at = now
        if answer.verdict is V.NEEDS_INFO:
            transition(proposal, S.NEEDS_INFO, actor, answer.explanation)
            continue
        proposal.answer_public = answer.explanation
        proposal.validated_cost_cents = answer.cost_cents
        proposal.duration_weeks = answer.duration_weeks
        proposal.answer_published_at = now
        note = answer.explanation
        if answer.verdict is V.FEASIBLE:
            note = _("Validated cost: %(cost)s.", cost=euros(answer.cost_cents or 0)) + (
                "\n" + note if note else "")
            transition(proposal, S.FEASIBLE, actor, note)
        else:
            transition(proposal, S.UNFEASIBLE, actor, note)
    audit(actor, "review.published", None,
          f"campaign {campaign.id}: proposals {','.join(map(str, sorted(ids)))}")
    return len(ids)


def published_answers(campaign: Campaign) -> list[Proposal]:
    """The campaign's proposals whose answer (feasible or not) is published, by title."""
    return list(db.session.execute(
        select(Proposal).where(Proposal.campaign_id == campaign.id,
                               Proposal.status.in_([S.FEASIBLE.value, S.UNFEASIBLE.value]))
        .order_by(Proposal.title, Proposal.id)).scalars())


def reopen_answer(actor: User, proposal: Proposal, reason: str) -> None:
    """The coordination takes a published answer back (a service erred, the site changed):
    the proposal is under review again, its services may record their verdicts anew, the
    public answer waits for the next publication. Only while answers may still be given;
    the reason is public (authors and followers are told) and audited."""
    _check_review_phase(proposal.campaign)
    if proposal.state not in (S.FEASIBLE, S.UNFEASIBLE):
        raise BudgetError(_("Only a published answer can be reopened (status: %(status)s).",
                            status=proposal.state.title))
    reason = (reason or "").strip()
    if len(reason) < 10:
        raise BudgetError(_("Tell the author, in a sentence, why the answer is reopened."),
                          "reason")
    if len(reason) > 1000:
        raise BudgetError(_("At most 1,000 characters."), "reason")
    for item in reviews_of(proposal):
        item.published_at = None
    proposal.answer_public = ""
    proposal.validated_cost_cents = None
    proposal.duration_weeks = None
    proposal.answer_published_at = None
    transition(proposal, S.UNDER_REVIEW, actor, reason)
    audit(actor, "review.reopened", None, f"proposal {proposal.id}")


def return_to_service(actor: User, review: FeasibilityReview, note: str) -> None:
    """The coordinator sends a verdict back to its service (before publication)."""
    if review.published_at is not None or review.verdict is None:
        raise BudgetError(_("Only an answered, unpublished verdict can be sent back."))
    note = (note or "").strip()
    if len(note) < 5:
        raise BudgetError(_("Tell the service what to reconsider."), "note")
    review.verdict = None
    review.decided_at = None
    review.internal_notes = (review.internal_notes + "\n\n" if review.internal_notes else "") \
        + _("Sent back by the coordination: %(note)s", note=note[:1000])
    db.session.flush()


def answer_question(user: User, proposal: Proposal, reply: str) -> None:
    """The author answers the services' question; the proposal goes back under review."""
    from civic.budgeting.services import _check_author

    _check_author(user, proposal)
    _check_review_phase(proposal.campaign)
    reply = (reply or "").strip()
    if len(reply) < 5:
        raise BudgetError(_("Write your answer."), "reply")
    if len(reply) > 5000:
        raise BudgetError(_("At most 5,000 characters."), "reply")
    if proposal.state is not S.NEEDS_INFO:
        raise BudgetError(_("No question is waiting for your answer."))
    now = utcnow()
    for review in reviews_of(proposal):
        if review.verdict == V.NEEDS_INFO.value:
            review.author_reply = reply
            review.verdict = None
            review.decided_at = None
            review.published_at = None
            review.assigned_at = now  # the service's waiting time starts again
    transition(proposal, S.UNDER_REVIEW, user, _("The author answered: %(reply)s",
                                                 reply=reply), notify_people=False)


# ---------------------------------------------------------------- dashboard

@dataclass
class DashboardRow:
    """Counts for one service or quartier."""

    label: str
    received: int = 0
    reviewed: int = 0
    feasible: int = 0
    waiting: int = 0
    median_wait_days: float | None = None


def _median_days(deltas: list[float]) -> float | None:
    return round(statistics.median(deltas) / 86400, 1) if deltas else None


def dashboard(campaign: Campaign, user: User) -> tuple[list[DashboardRow], list[DashboardRow]]:
    """Per service (an agent sees their own services) and per quartier: received, reviewed,
    feasible, waiting, and the median waiting time (days) of those still waiting."""
    now = utcnow()
    services = db.session.execute(select(CityService).order_by(CityService.name)).scalars()
    if not user_can(user, "budget.manage"):
        mine = set(user.scopes("agent"))
        services = [s for s in services if s.id in mine]
    reviews = db.session.execute(
        select(FeasibilityReview).join(Proposal).where(Proposal.campaign_id == campaign.id)
    ).scalars().all()
    by_service = []
    for service in services:
        row = DashboardRow(service.name)
        waits = []
        for r in (r for r in reviews if r.service_id == service.id):
            row.received += 1
            if r.verdict is not None:
                row.reviewed += 1
                if r.verdict == V.FEASIBLE.value:
                    row.feasible += 1
            else:
                row.waiting += 1
                waits.append((now - r.assigned_at).total_seconds())
        row.median_wait_days = _median_days(waits)
        by_service.append(row)
    proposals = db.session.execute(select(Proposal).where(
        Proposal.campaign_id == campaign.id,
        Proposal.status.notin_([S.DRAFT.value, S.WITHDRAWN.value]))).scalars().all()
    areas: list[tuple[int | None, str]] = [(None, _("Whole city"))]
    for envelope in campaign.envelopes:
        if envelope.quartier_id is not None:
            areas.append((envelope.quartier_id, envelope.quartier.name))
    by_quartier = []
    for qid, label in areas:
        row = DashboardRow(label)
        waits = []
        for p in (p for p in proposals if p.quartier_id == qid):
            row.received += 1
            if p.answer_published_at is not None:
                row.reviewed += 1
                if p.state in (S.FEASIBLE, S.SELECTED, S.WINNER, S.NOT_WINNER, S.REALISED):
                    row.feasible += 1
            elif p.state in (S.SUBMITTED, S.UNDER_REVIEW, S.NEEDS_INFO):
                row.waiting += 1
                waits.append((now - (p.submitted_at or p.created_at)).total_seconds())
        row.median_wait_days = _median_days(waits)
        by_quartier.append(row)
    return by_service, by_quartier


__all__ = ["Quartier"]
