"""Action-plan pages: the plan tree with filters, action pages, coordination forms.

The list of plans stays at ``core.action_plan`` (/plan-d-action), linked from every page.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from civic.actionplan import csvio, services
from civic.actionplan.forms import (
    ActionDetailsForm,
    CsvImportForm,
    IndicatorForm,
    IndicatorValueForm,
    ParticipationForm,
    StatusForm,
)
from civic.actionplan.models import PlanNode
from civic.actionplan.states import ActionStatus, ParticipationStage, allowed_next
from civic.councils import cycle
from civic.councils import services as councils
from civic.extensions import db
from civic.forms import digits, quartier_choices
from civic.permissions import public, requires
from civic.viewutil import attach_error, change

bp = Blueprint("actionplan", __name__, url_prefix="/plan-d-action")


def _node_or_404(node_id: int) -> PlanNode:
    node = services.get_node(node_id)
    if node is None:
        abort(404)
    return node


def _action_or_404(node_id: int) -> PlanNode:
    action = services.get_action(node_id)
    if action is None:
        abort(404)
    return action


def _updatable_action_or_403(node_id: int) -> PlanNode:
    """The action, if the signed-in user may update it (the team, or its porteur)."""
    action = _action_or_404(node_id)
    if not services.can_update_action(current_user, action):
        abort(403)
    return action


@bp.route("/mes-actions")
@requires("actionplan.own")
def my_actions():
    """A porteur's actions, with the forms they may use on each."""
    return render_template("actionplan/my_actions.html",
                           actions=services.actions_of_porteur(current_user))


@bp.route("/<int:plan_id>")
@public
def plan(plan_id: int):
    """A plan as a navigable tree, with progress per branch and filters on its actions."""
    the_plan = services.get_plan(plan_id)
    if the_plan is None:
        abort(404)
    criteria, filter_errors = services.parse_filter(the_plan, request.args)
    cache: dict[int, float | None] = {}
    return render_template(
        "actionplan/plan.html", plan=the_plan, roots=services.roots(the_plan),
        visible=services.visible_nodes(the_plan, criteria), criteria=criteria,
        match_count=len(services.matching_actions(the_plan, criteria)),
        action_count=sum(1 for n in the_plan.nodes if n.is_action),
        filter_errors=filter_errors, porteurs=services.porteurs(the_plan),
        quartiers=quartier_choices()[1:], statuses=list(ActionStatus),
        progress=lambda node: services.progress(node, cache),
        plan_progress=services.plan_progress(the_plan, cache),
    )


@bp.route("/fiche/<int:node_id>")
@public
def node(node_id: int):
    """One node of a plan: an action (details, indicators, timeline) or a branch."""
    the_node = _node_or_404(node_id)
    ancestors = []
    current = the_node.parent
    while current is not None:
        ancestors.insert(0, current)
        current = current.parent
    cache: dict[int, float | None] = {}
    return render_template(
        "actionplan/node.html", node=the_node, plan=the_node.plan, ancestors=ancestors,
        progress=services.progress(the_node, cache), chart=services.indicator_chart,
        progress_of=lambda n: services.progress(n, cache),
        council_avis=councils.avis_on(the_node), council_questions=councils.questions_on(the_node),
        evaluations=cycle.evaluations_of(the_node),
        breakdown=services.breakdown_table,
        can_update=services.can_update_action(current_user, the_node),
        participation=services.participation_by_stage(the_node) if the_node.is_action else [],
    )


@bp.route("/fiche/<int:node_id>/statut", methods=["GET", "POST"])
@requires("actionplan.update")
def change_status(node_id: int):
    """Change an action's status (coordination, or its porteur), through the transition table."""
    action = _updatable_action_or_403(node_id)
    form = StatusForm()
    form.status.choices = [(s.value, s.title) for s in allowed_next(action.status)]
    form.replaced_by.choices = [("", _("— None —"))] + [
        (n.id, f"{n.code + ' ' if n.code else ''}{n.title}") for n in action.plan.nodes
        if n.is_action and n.id != action.id]
    if form.validate_on_submit():
        with change(services.ActionPlanError, form, _("Status updated.")) as step:
            replacement = services.replacement_for(action, form.replaced_by.data)
            services.change_status(current_user, action, services.parse_status(form.status.data),
                                   form.note.data or "", replaced_by=replacement)
        if step.ok:
            return redirect(url_for("actionplan.node", node_id=action.id))
    return render_template("actionplan/status_form.html", form=form, action=action), (
        422 if form.is_submitted() else 200)


@bp.route("/fiche/<int:node_id>/details", methods=["GET", "POST"])
@requires("actionplan.manage")
def edit_action(node_id: int):
    """Edit an action's porteur, partners, period, budget, quartiers, publics and themes."""
    action = _action_or_404(node_id)
    form = ActionDetailsForm(obj=None if request.method == "POST" else action)
    if request.method == "GET":
        form.budget.data = services.format_euros_input(action.budget_cents)
        form.quartiers.data = [q.id for q in action.quartiers]
        form.publics.data = [p.id for p in action.publics]
        form.tags.data = [t.id for t in action.tags]
    form.quartiers.choices = [(int(v), label) for v, label in quartier_choices()[1:]]
    form.publics.choices = [(p.id, p.label) for p in action.plan.publics]
    form.tags.choices = [(t.id, t.label) for t in action.plan.tags]
    if form.validate_on_submit():
        with change(services.ActionPlanError, form, _("Saved.")) as step:
            services.update_action(
                current_user, action, porteur=form.porteur.data, partners=form.partners.data,
                period_start=form.period_start.data, period_end=form.period_end.data,
                budget_cents=services.parse_euros(form.budget.data),
                quartier_ids=form.quartiers.data or [], public_ids=form.publics.data or [],
                tag_ids=form.tags.data or [])
        if step.ok:
            return redirect(url_for("actionplan.node", node_id=action.id))
    return render_template("actionplan/details_form.html", form=form, action=action), (
        422 if form.is_submitted() else 200)


@bp.route("/fiche/<int:node_id>/indicateurs/nouveau", methods=["GET", "POST"])
@requires("actionplan.manage")
def add_indicator(node_id: int):
    """Add an indicator to an action (coordination)."""
    action = _action_or_404(node_id)
    form = IndicatorForm()
    if form.validate_on_submit():
        with change(services.ActionPlanError, form, _("Indicator added.")) as step:
            services.add_indicator(current_user, action, name=form.name.data,
                                   unit=form.unit.data, baseline=form.baseline.data,
                                   baseline_year=form.baseline_year.data,
                                   source=form.source.data or "")
        if step.ok:
            return redirect(url_for("actionplan.node", node_id=action.id))
    return render_template("actionplan/indicator_form.html", form=form, action=action), (
        422 if form.is_submitted() else 200)


@bp.route("/fiche/<int:node_id>/indicateurs/valeur", methods=["GET", "POST"])
@requires("actionplan.update")
def record_value(node_id: int):
    """Record a yearly target or measured value of one of the action's indicators."""
    action = _updatable_action_or_403(node_id)
    form = IndicatorValueForm()
    form.indicator.choices = [(i.id, f"{i.name} ({i.unit})") for i in action.indicators]
    form.public.choices = [("", _("Everyone"))] + [(p.id, p.label) for p in action.plan.publics]
    if form.validate_on_submit():
        with change(services.ActionPlanError, form, _("Value recorded.")) as step:
            indicator = services.indicator_of(action, form.indicator.data)
            public = services.public_of(action, form.public.data)
            if public is None:
                services.record_indicator_value(current_user, indicator, year=form.year.data,
                                                target=form.target.data,
                                                measured=form.measured.data)
            else:
                services.record_breakdown(current_user, indicator, public, year=form.year.data,
                                          target=form.target.data, measured=form.measured.data)
        if step.ok:
            return redirect(url_for("actionplan.node", node_id=action.id))
    return render_template("actionplan/value_form.html", form=form, action=action), (
        422 if form.is_submitted() else 200)


@bp.route("/fiche/<int:node_id>/participation", methods=["GET", "POST"])
@requires("actionplan.update")
def record_participation(node_id: int):
    """Record what residents did at the start, at the heart or at the end of an action."""
    action = _updatable_action_or_403(node_id)
    form = ParticipationForm()
    form.stage.choices = [(s.value, s.title) for s in ParticipationStage]
    if form.validate_on_submit():
        with change(services.ActionPlanError, form, _("Participation recorded.")) as step:
            services.record_participation(
                current_user, action, stage=form.stage.data, held_on=form.held_on.data,
                participants=form.participants.data, description=form.description.data)
        if step.ok:
            return redirect(url_for("actionplan.node", node_id=action.id) + "#participation")
    return render_template("actionplan/participation_form.html", form=form, action=action), (
        422 if form.is_submitted() else 200)


@bp.route("/<int:plan_id>/plan.csv")
@public
def export_csv(plan_id: int):
    """The whole plan as one CSV file (the documented format the import reads back)."""
    the_plan = services.get_plan(plan_id)
    if the_plan is None:
        abort(404)
    response = Response(csvio.export_plan_csv(the_plan), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{the_plan.slug}.csv"'
    return response


@bp.route("/importer", methods=["GET", "POST"])
@requires("actionplan.manage")
def import_csv():
    """Import a plan from a CSV file: every bad line is listed, and nothing is imported then."""
    form = CsvImportForm()
    line_errors: list[tuple[int, str]] = []
    if form.validate_on_submit():
        upload = form.file.data
        try:
            plan = csvio.import_plan_csv(
                current_user, upload.read(csvio.MAX_CSV_BYTES + 1), slug=form.slug.data,
                filename=upload.filename or "")
            db.session.commit()
        except csvio.CsvImportError as exc:
            db.session.rollback()
            line_errors = exc.errors
            form.form_errors.append(exc.message)
        except services.ActionPlanError as exc:
            attach_error(form, exc)
        else:
            flash(_("Plan imported."), "success")
            return redirect(url_for("actionplan.plan", plan_id=plan.id))
    return render_template("actionplan/import_form.html", form=form, line_errors=line_errors,
                           columns=csvio.COLUMNS), 422 if form.is_submitted() else 200


def _report_year() -> int:
    """The ?annee= of a report page (this year by default); 404 outside 2000–2100."""
    raw = request.args.get("annee", "")
    year = int(raw) if digits(raw) and len(raw) == 4 else None
    if raw and year is None:
        abort(404)
    year = year or councils.today().year
    if not 2000 <= year <= 2100:
        abort(404)
    return year


@bp.route("/<int:plan_id>/bilan")
@public
def report(plan_id: int):
    """The whole plan's yearly evaluation report (?annee=): statuses, indicators, decisions."""
    the_plan = services.get_plan(plan_id)
    if the_plan is None:
        abort(404)
    year = _report_year()
    return render_template("actionplan/report.html", plan=the_plan, year=year,
                           report=cycle.plan_report(the_plan, year))


@bp.route("/<int:plan_id>/bilan.csv")
@public
def report_csv(plan_id: int):
    """The yearly evaluation report as CSV: one line per action and indicator."""
    the_plan = services.get_plan(plan_id)
    if the_plan is None:
        abort(404)
    year = _report_year()
    response = Response(cycle.plan_report_csv(cycle.plan_report(the_plan, year)),
                        mimetype="text/csv")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{the_plan.slug}-bilan-{year}.csv"')
    return response
