"""Feasibility review pages: assignment, the agents' queue, verdicts, publication, dashboard."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from civic.budgeting import services as budget
from civic.budgeting.models import Campaign, Proposal
from civic.budgeting.states import ProposalStatus, TransitionRefused
from civic.extensions import db
from civic.permissions import requires, user_can
from civic.review import services as review
from civic.review.forms import (
    AssignForm,
    PublishForm,
    ReopenForm,
    ReturnForm,
    ThemeAssignForm,
    VerdictForm,
)
from civic.review.models import FeasibilityReview
from civic.territory.models import CityService
from civic.timeutil import utcnow
from civic.viewutil import attach_error, change, form_status

bp = Blueprint("review", __name__, url_prefix="/etude-de-faisabilite")
S = ProposalStatus


def _service_choices() -> list[tuple[int, str]]:
    return [(s.id, s.name) for s in
            db.session.execute(select(CityService).order_by(CityService.name)).scalars()]


@bp.route("/campagnes/<int:campaign_id>/affectation", methods=["GET", "POST"])
@requires("budget.manage")
def assignment(campaign_id: int):
    """Send proposals to the city services, one by one or all those of a theme."""
    campaign = db.get_or_404(Campaign, campaign_id)
    theme_form = ThemeAssignForm()
    theme_form.theme_id.choices = [("", _("— Choose —"))] + [(str(t.id), t.name)
                                                            for t in campaign.themes]
    theme_form.service_ids.choices = _service_choices()
    if theme_form.validate_on_submit():
        try:
            count = review.assign_by_theme(current_user, campaign, theme_form.theme_id.data,
                                           theme_form.service_ids.data or [])
            db.session.commit()
        except (budget.BudgetError, TransitionRefused) as exc:
            attach_error(theme_form, exc)
        else:
            flash(_("%(num)d proposals sent to the services.", num=count), "success")
            return redirect(url_for("review.assignment", campaign_id=campaign.id))
    proposals = db.session.execute(select(Proposal).where(
        Proposal.campaign_id == campaign.id,
        Proposal.status.in_([S.SUBMITTED.value, S.UNDER_REVIEW.value, S.NEEDS_INFO.value]))
        .order_by(Proposal.status.desc(), Proposal.id)).scalars().all()
    assigned = {p.id: [r.service.name for r in review.reviews_of(p)] for p in proposals}
    form = AssignForm()
    form.service_ids.choices = _service_choices()
    status = 422 if theme_form.is_submitted() else 200
    return render_template("review/assignment.html", campaign=campaign, proposals=proposals,
                           assigned=assigned, theme_form=theme_form, form=form), status


@bp.route("/propositions/<int:proposal_id>/affecter", methods=["POST"])
@requires("budget.manage")
def assign(proposal_id: int):
    """Send one proposal to one or more services."""
    proposal = db.get_or_404(Proposal, proposal_id)
    form = AssignForm()
    form.service_ids.choices = _service_choices()
    if form.validate_on_submit():
        with change((budget.BudgetError, TransitionRefused)) as step:
            review.assign_services(current_user, proposal, form.service_ids.data or [])
            step.success = _("“%(title)s” sent to the services.", title=proposal.title)
    else:
        flash(_("Choose services from the list."), "error")
    return redirect(url_for("review.assignment", campaign_id=proposal.campaign_id))


@bp.route("/file")
@requires("review.queue")
def queue():
    """An agent's work queue: their services' proposals, oldest first, with waiting times."""
    items = review.queue_for(current_user)
    now = utcnow()
    waiting = [r for r in items if r.verdict is None]
    return render_template("review/queue.html", items=items, now=now,
                           waiting=len(waiting), answered=len(items) - len(waiting))


@bp.route("/avis/<int:review_id>", methods=["GET", "POST"])
@requires("review.queue")
def verdict(review_id: int):
    """Record a service's verdict on a proposal (own services only)."""
    item = db.get_or_404(FeasibilityReview, review_id)
    if item.service_id not in current_user.scopes("agent"):
        abort(403)
    form = VerdictForm(obj=None)
    if not form.is_submitted() and item.verdict:
        form.verdict.data = item.verdict
        form.public_explanation.data = item.public_explanation
        form.validated_cost.data = (item.validated_cost_cents // 100
                                    if item.validated_cost_cents else None)
        form.duration_weeks.data = item.duration_weeks
        form.internal_notes.data = item.internal_notes
    elif not form.is_submitted():
        form.internal_notes.data = item.internal_notes
    if form.validate_on_submit():
        cost = form.validated_cost.data
        data = review.VerdictData(
            verdict=form.verdict.data, public_explanation=form.public_explanation.data or "",
            validated_cost_cents=cost * 100 if cost is not None else None,
            duration_weeks=form.duration_weeks.data,
            internal_notes=form.internal_notes.data or "")
        try:
            review.record_feasibility(current_user, item, data)
            db.session.commit()
        except budget.NotYours:
            db.session.rollback()
            abort(403)
        except budget.BudgetError as exc:
            attach_error(form, exc)
        else:
            flash(_("Verdict recorded: the coordination will review and publish it."),
                  "success")
            return redirect(url_for("review.queue"))
    others = [r for r in review.reviews_of(item.proposal) if r.id != item.id]
    return render_template("review/verdict.html", form=form, item=item, proposal=item.proposal,
                           others=others, now=utcnow()), form_status(form)


@bp.route("/campagnes/<int:campaign_id>/publication", methods=["GET", "POST"])
@requires("budget.manage")
def publication(campaign_id: int):
    """The coordinator reviews the services' answers and publishes them in bulk."""
    campaign = db.get_or_404(Campaign, campaign_id)
    pending = review.pending_publication(campaign)
    form = PublishForm()
    form.proposal_ids.choices = [(p.id, p.title) for p, _a in pending]
    if form.validate_on_submit():
        with change((budget.BudgetError, TransitionRefused), form) as step:
            count = review.publish_answers(current_user, campaign, form.proposal_ids.data or [])
            step.success = _("%(num)d answers published; the authors were told.", num=count)
        if step.ok:
            return redirect(url_for("review.publication", campaign_id=campaign.id))
    details = {p.id: review.reviews_of(p) for p, _a in pending}
    return render_template("review/publication.html", campaign=campaign, pending=pending,
                           details=details, form=form, return_form=ReturnForm(),
                           published=review.published_answers(campaign),
                           reviewing=campaign.phase() in review.REVIEW_PHASES
                           ), form_status(form)


@bp.route("/propositions/<int:proposal_id>/rouvrir", methods=["POST"])
@requires("budget.manage")
def reopen(proposal_id: int):
    """Take a published answer back under review, with a public reason."""
    proposal = db.get_or_404(Proposal, proposal_id)
    form = ReopenForm()
    if form.validate_on_submit():
        with change((budget.BudgetError, TransitionRefused),
                    success=_("The answer is reopened: the services may record their "
                              "verdicts again, and the author was told why.")):
            review.reopen_answer(current_user, proposal, form.reason.data)
    else:
        flash(_("Tell the author, in a sentence, why the answer is reopened."), "error")
    return redirect(url_for("review.publication", campaign_id=proposal.campaign_id))


@bp.route("/avis/<int:review_id>/renvoyer", methods=["POST"])
@requires("budget.manage")
def send_back(review_id: int):
    """Send a service's verdict back to it with a note (before publication)."""
    item = db.get_or_404(FeasibilityReview, review_id)
    form = ReturnForm()
    campaign_id = item.proposal.campaign_id
    if form.validate_on_submit():
        with change(budget.BudgetError, success=_("The verdict was sent back to the service.")):
            review.return_to_service(current_user, item, form.note.data)
    else:
        flash(_("Tell the service what to reconsider."), "error")
    return redirect(url_for("review.publication", campaign_id=campaign_id))


@bp.route("/campagnes/<int:campaign_id>/tableau-de-bord")
@requires("review.dashboard")
def dashboard(campaign_id: int):
    """Per service and quartier: received, reviewed, feasible, waiting, median wait."""
    campaign = db.get_or_404(Campaign, campaign_id)
    by_service, by_quartier = review.dashboard(campaign, current_user)
    return render_template("review/dashboard.html", campaign=campaign, by_service=by_service,
                           by_quartier=by_quartier,
                           manager=user_can(current_user, "budget.manage"))
