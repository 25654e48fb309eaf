"""The yearly programming cycle's pages: calls for projects, applications, councils' avis,
the steering committee's decisions, and the yearly evaluation decision of an action."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from civic.actionplan import services as actionplan
from civic.councils import cycle, services
from civic.councils.forms import (
    ApplicationAvisForm,
    ApplicationForm,
    CallForm,
    DecisionForm,
    EvaluationForm,
)
from civic.councils.models import CallApplication, Decision, Opinion, Outcome, ProjectCall
from civic.councils.views import _my_council_or_403, _row_or_404
from civic.forms import quartier_choices
from civic.permissions import public, requires
from civic.viewutil import change, form_status

bp = Blueprint("cycle", __name__, url_prefix="/programmation")


@bp.route("/")
@public
def calls():
    """The yearly calls for projects of every plan."""
    return render_template("councils/calls.html", calls=cycle.list_calls(),
                           plans=actionplan.list_plans())


@bp.route("/appels/<int:call_id>")
@public
def call(call_id: int):
    """A call: its criteria, applications, councils' avis and decisions."""
    the_call = _row_or_404(ProjectCall, call_id)
    my_councils = (services.list_councils() if current_user.is_authenticated else [])
    mine = [c for c in my_councils
            if current_user.is_authenticated and c.id in current_user.scopes("council_member")]
    return render_template("councils/call.html", call=the_call, my_councils=mine,
                           councils_for=cycle.councils_for)


@bp.route("/plans/<int:plan_id>/nouvel-appel", methods=["GET", "POST"])
@requires("actionplan.manage")
def new_call(plan_id: int):
    """Open a plan's yearly call, prefilled with the criteria its seed publishes."""
    plan = actionplan.get_plan(plan_id)
    if plan is None:
        abort(404)
    form = CallForm()
    if not form.is_submitted():
        criteria, ceiling = cycle.seed_call_defaults(plan)
        form.criteria.data = "\n".join(criteria)
        form.max_cofinancing_percent.data = ceiling
        form.year.data = services.today().year
    if form.validate_on_submit():
        with change(services.CouncilError, form, _("The call is published.")) as step:
            the_call = cycle.open_call(
                current_user, plan, year=form.year.data, title=form.title.data,
                criteria=form.criteria.data,
                max_cofinancing_percent=form.max_cofinancing_percent.data,
                closes_on=form.closes_on.data)
        if step.ok:
            return redirect(url_for("cycle.call", call_id=the_call.id))
    return render_template("councils/call_form.html", form=form, plan=plan), form_status(form)


def _euros(text: str | None, field: str) -> int | None:
    try:
        return actionplan.parse_euros(text)
    except actionplan.ActionPlanError as exc:
        raise services.CouncilError(exc.message, field) from exc


@bp.route("/appels/<int:call_id>/candidater", methods=["GET", "POST"])
@requires("account")
def apply(call_id: int):
    """Propose an action to a call, with its budget and the co-financing requested."""
    the_call = _row_or_404(ProjectCall, call_id)
    form = ApplicationForm()
    form.quartier_id.choices = quartier_choices(_("Whole territory"))
    if form.validate_on_submit():
        with change(services.CouncilError, form, _("Your proposal is submitted.")) as step:
            cycle.apply_to_call(
                current_user, the_call, porteur=form.porteur.data, title=form.title.data,
                description=form.description.data, quartier_id=form.quartier_id.data,
                budget_cents=_euros(form.budget.data, "budget"),
                requested_cents=_euros(form.requested.data, "requested"))
        if step.ok:
            return redirect(url_for("cycle.call", call_id=the_call.id))
    return render_template("councils/application_form.html", form=form,
                           call=the_call), form_status(form)


@bp.route("/conseils/<int:council_id>/candidatures/<int:application_id>/avis",
          methods=["GET", "POST"])
@requires("council.act")
def application_avis(council_id: int, application_id: int):
    """A council's avis on an application of its quartier."""
    the_council = _my_council_or_403(council_id)
    application = _row_or_404(CallApplication, application_id)
    if the_council not in cycle.councils_for(application):
        abort(404)
    form = ApplicationAvisForm()
    form.opinion.choices = [(o.value, o.title) for o in Opinion]
    if form.validate_on_submit():
        with change(services.CouncilError, form, _("The council's avis is published.")) as step:
            cycle.give_application_avis(current_user, the_council, application,
                                        opinion=form.opinion.data, text=form.text.data)
        if step.ok:
            return redirect(url_for("cycle.call", call_id=application.call_id))
    return render_template("councils/application_avis_form.html", form=form,
                           council=the_council, application=application), form_status(form)


@bp.route("/candidatures/<int:application_id>/decision", methods=["GET", "POST"])
@requires("actionplan.manage")
def decide(application_id: int):
    """Record the steering committee's decision on an application."""
    application = _row_or_404(CallApplication, application_id)
    form = DecisionForm()
    form.decision.choices = [("", _("— Choose —"))] + [(d.value, d.title) for d in Decision]
    if form.validate_on_submit():
        with change(services.CouncilError, form, _("Decision recorded.")) as step:
            cycle.decide(current_user, application, decision=form.decision.data,
                         reasons=form.reasons.data, committee=form.committee.data)
        if step.ok:
            return redirect(url_for("cycle.call", call_id=application.call_id))
    return render_template("councils/decision_form.html", form=form,
                           application=application), form_status(form)


@bp.route("/actions/<int:node_id>/evaluation", methods=["GET", "POST"])
@requires("actionplan.manage")
def evaluate(node_id: int):
    """Record the yearly evaluation's decision on an action, with the councils' avis shown."""
    action = actionplan.get_action(node_id)
    if action is None:
        abort(404)
    form = EvaluationForm()
    form.outcome.choices = [("", _("— Choose —"))] + [(o.value, o.title) for o in Outcome]
    form.replaced_by.choices = [("", _("— None —"))] + [
        (n.id, f"{n.code + ' ' if n.code else ''}{n.title}") for n in action.plan.nodes
        if n.is_action and n.id != action.id]
    if not form.is_submitted():
        form.year.data = services.today().year
    if form.validate_on_submit():
        with change((services.CouncilError, actionplan.ActionPlanError), form,
                    _("Evaluation decision recorded.")) as step:
            replacement = actionplan.replacement_for(action, form.replaced_by.data)
            cycle.record_evaluation(current_user, action, year=form.year.data,
                                    outcome=form.outcome.data, reasons=form.reasons.data,
                                    replaced_by=replacement)
        if step.ok:
            return redirect(url_for("actionplan.node", node_id=action.id))
    return render_template("councils/evaluation_form.html", form=form, action=action,
                           avis=services.avis_on(action)), form_status(form)
