"""Realisation pages: public follow-up of the winning projects, managers' edit forms,
milestone photos, and the campaign's link into the action plan.

Views are thin (form → one service → commit → redirect); civic.voting.realisation holds
the rules.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    IntegerField,
    MultipleFileField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from civic.actionplan.models import PlanNode
from civic.actionplan.services import ActionPlanError
from civic.budgeting import images as image_store
from civic.budgeting.forms import EURO_FIELD_MAX
from civic.budgeting.models import Campaign, Proposal
from civic.budgeting.services import Upload
from civic.extensions import db
from civic.forms import optional_int
from civic.permissions import public, requires
from civic.viewutil import change, confirmed, form_status
from civic.voting import realisation as service
from civic.voting.models import Milestone, MilestonePhoto, Realisation

bp = Blueprint("realisation", __name__, url_prefix="/budget-participatif")


@bp.app_context_processor
def _helpers() -> dict[str, Any]:
    """Let budget templates link a winning proposal to its realisation page."""

    def realisation_of(proposal: Proposal) -> Realisation | None:
        return service.realisation_of(proposal)

    return {"realisation_of": realisation_of,
            "realisation_status_title": service.status_title}


class RealisationForm(FlaskForm):
    """Status, progress and cost of a realisation."""

    status = SelectField(_l("Status"), choices=[
        (k, v) for k, v in service.STATUS_TITLES.items()], validators=[InputRequired()])
    progress = IntegerField(_l("Progress (%)"), validators=[Optional(), NumberRange(0, 100)],
                            description=_l("A whole number between 0 and 100."))
    actual_cost = IntegerField(_l("Actual cost (euros)"),
                               validators=[Optional(), NumberRange(0, EURO_FIELD_MAX)],
                               description=_l("Leave empty while it is not known."))
    abandon_reason = TextAreaField(_l("Why the project is abandoned"),
                                   validators=[Optional(), Length(max=2000)],
                                   description=_l("Required when the status is "
                                                  "“Given up”; shown to everyone."))


class MilestoneForm(FlaskForm):
    """A dated step, with photos."""

    on = DateField(_l("Date"), validators=[InputRequired()])
    title = StringField(_l("Title"), validators=[InputRequired(), Length(max=160)])
    body = TextAreaField(_l("What happened"), validators=[Optional(), Length(max=5000)])
    progress = IntegerField(_l("Progress reached (%)"),
                            validators=[Optional(), NumberRange(0, 100)],
                            description=_l("Optional: updates the project's progress."))
    photos = MultipleFileField(_l("Photos"), description=_l(
        "Up to 3 JPEG, PNG, WebP or GIF images of 4 MB at most; their metadata (such as "
        "the position where they were taken) is removed."))
    photo_alt = StringField(_l("Description of the photos"),
                            validators=[Optional(), Length(max=200)],
                            description=_l("For people who cannot see them; the title is "
                                           "used if you leave it empty."))


class PlanLinkForm(FlaskForm):
    """The action-plan branch under which the campaign's winners become actions."""

    plan_node_id = SelectField(_l("Branch of the action plan"), coerce=optional_int,
                               validators=[Optional()])


def _realisation_or_404(realisation_id: int) -> Realisation:
    return db.get_or_404(Realisation, realisation_id)


@bp.route("/campagnes/<int:campaign_id>/realisations")
@public
def index(campaign_id: int):
    """The winning projects of a campaign and where each one stands."""
    campaign = db.get_or_404(Campaign, campaign_id)
    return render_template("voting/realisation_index.html", campaign=campaign,
                           realisations=service.realisations_of(campaign),
                           status_title=service.status_title)


@bp.route("/realisations/<int:realisation_id>")
@public
def show(realisation_id: int):
    """A winning project: status, progress, cost, dated milestones with photos."""
    realisation = _realisation_or_404(realisation_id)
    action = db.session.get(PlanNode, realisation.plan_node_id) \
        if realisation.plan_node_id else None
    return render_template("voting/realisation_show.html", realisation=realisation,
                           proposal=realisation.proposal,
                           campaign=realisation.proposal.campaign, action=action,
                           status_title=service.status_title)


@bp.route("/realisations/<int:realisation_id>/modifier", methods=["GET", "POST"])
@requires("budget.manage")
def edit(realisation_id: int):
    """Managers change the status, progress and actual cost."""
    realisation = _realisation_or_404(realisation_id)
    form = RealisationForm()
    if request.method == "GET":
        form.status.data = realisation.status
        form.progress.data = realisation.progress
        form.abandon_reason.data = realisation.abandon_reason
        if realisation.actual_cost_cents is not None:
            form.actual_cost.data = realisation.actual_cost_cents // 100
    if form.validate_on_submit():
        data = service.RealisationData(
            status=form.status.data, progress=form.progress.data,
            actual_cost_cents=(form.actual_cost.data * 100
                               if form.actual_cost.data is not None else None),
            abandon_reason=form.abandon_reason.data or "")
        with change((service.RealisationError, ActionPlanError), form,
                    _("The realisation was updated.")) as step:
            service.update_realisation(current_user, realisation, data)
        if step.ok:
            return redirect(url_for("realisation.show", realisation_id=realisation.id))
    return render_template("voting/realisation_edit.html", form=form,
                           realisation=realisation, proposal=realisation.proposal
                           ), form_status(form)


@bp.route("/realisations/<int:realisation_id>/jalons/nouveau", methods=["GET", "POST"])
@requires("budget.manage")
def milestone_new(realisation_id: int):
    """Managers add a dated milestone with photos."""
    realisation = _realisation_or_404(realisation_id)
    form = MilestoneForm()
    if form.validate_on_submit():
        uploads = [Upload(f.filename or "", f.read()) for f in request.files.getlist("photos")
                   if f and f.filename]
        data = service.MilestoneData(on=form.on.data, title=form.title.data,
                                     body=form.body.data or "", progress=form.progress.data,
                                     photo_alt=form.photo_alt.data or "")
        with change(service.RealisationError, form, _("The milestone was added.")) as step:
            service.add_milestone(current_user, realisation, data, uploads)
        if step.ok:
            return redirect(url_for("realisation.show", realisation_id=realisation.id))
    return render_template("voting/realisation_milestone.html", form=form,
                           realisation=realisation, proposal=realisation.proposal
                           ), form_status(form)


@bp.route("/realisations/<int:realisation_id>/jalons/<int:milestone_id>/supprimer",
          methods=["POST"])
@requires("budget.manage")
def milestone_delete(realisation_id: int, milestone_id: int):
    """Managers remove a milestone entered by mistake."""
    realisation = _realisation_or_404(realisation_id)
    milestone = db.get_or_404(Milestone, milestone_id)
    confirmed()
    with change(service.RealisationError, success=_("The milestone was removed.")):
        service.delete_milestone(current_user, realisation, milestone)
    return redirect(url_for("realisation.show", realisation_id=realisation.id))


@bp.route("/realisations/<int:realisation_id>/photos/<int:photo_id>")
@public
def photo(realisation_id: int, photo_id: int):
    """A milestone photo (re-encoded, without metadata)."""
    realisation = _realisation_or_404(realisation_id)
    item = db.get_or_404(MilestonePhoto, photo_id)
    if item.milestone.realisation_id != realisation.id:
        abort(404)
    path = image_store.path_for(item.token, request.args.get("taille", "full"))
    if not path.exists():
        abort(404)
    return send_file(path, mimetype="image/jpeg", max_age=3600)


@bp.route("/campagnes/<int:campaign_id>/lien-plan-d-action", methods=["GET", "POST"])
@requires("budget.manage")
def plan_link(campaign_id: int):
    """Coordinators choose the action-plan branch that receives the campaign's winners."""
    campaign = db.get_or_404(Campaign, campaign_id)
    form = PlanLinkForm()
    form.plan_node_id.choices = [(None, _("— No link —")), *service.branch_choices()]
    link = service.plan_link_of(campaign)
    if request.method == "GET" and link is not None:
        form.plan_node_id.data = link.plan_node_id
    if form.validate_on_submit():
        node = None
        if form.plan_node_id.data is not None:
            node = db.session.get(PlanNode, form.plan_node_id.data)
        with change(service.RealisationError, form,
                    _("The link to the action plan was saved.")) as step:
            service.set_plan_link(current_user, campaign, node)
        if step.ok:
            return redirect(url_for("budgeting.campaign", campaign_id=campaign.id))
    return render_template("voting/realisation_plan_link.html", form=form,
                           campaign=campaign, link=link), form_status(form)
