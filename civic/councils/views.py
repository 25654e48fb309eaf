"""Council pages: public (councils, draws, meetings, iCal), volunteering, coordination
(members, draw, meetings, answers) and the members' follow-up (dashboard, avis, questions).

The list of councils stays at ``core.councils`` (/conseils-citoyens), linked from every page.
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

from civic.actionplan import services as actionplan
from civic.councils import services
from civic.councils.forms import (
    AnswerForm,
    AttendanceForm,
    AvisForm,
    DrawForm,
    MeetingForm,
    MemberForm,
    MinutesForm,
    QuestionForm,
    VolunteerForm,
)
from civic.councils.models import (
    College,
    CouncilDraw,
    CouncilMember,
    CouncilQuestion,
    Meeting,
    Opinion,
)
from civic.extensions import db
from civic.permissions import public, requires
from civic.territory.models import Council
from civic.viewutil import ConfirmForm, attach_error, change, confirmed, form_status

bp = Blueprint("councils", __name__, url_prefix="/conseils-citoyens")


def _council_or_404(council_id: int) -> Council:
    council = services.get_council(council_id)
    if council is None:
        abort(404)
    return council


def _row_or_404(model: type, row_id: int):  # noqa: ANN202
    row = services.get_row(model, row_id)
    if row is None:
        abort(404)
    return row


def index():
    """The councils with their quartier and whether they meet the cadre de référence."""
    councils = services.list_councils()
    return render_template("councils/index.html", councils=councils,
                           checks={c.id: services.rule_checks(c) for c in councils})


@bp.route("/<int:council_id>")
@public
def council(council_id: int):
    """A council's public page: members by collège, rules, draws, meetings, avis."""
    the_council = _council_or_404(council_id)
    members = services.current_members(the_council)
    draws = db.session.execute(db.select(CouncilDraw).where(
        CouncilDraw.council_id == the_council.id).order_by(CouncilDraw.at.desc())).scalars()
    return render_template(
        "councils/council.html", council=the_council, colleges=list(College),
        members=members, checks=services.rule_checks(the_council), draws=list(draws),
        meetings=services.meetings_of(the_council), avis=services.avis_of(the_council))


@bp.route("/tirages/<int:draw_id>")
@public
def draw(draw_id: int):
    """The public report of a draw: seed, quotas, volunteer numbers, drawn names."""
    the_draw = _row_or_404(CouncilDraw, draw_id)
    return render_template("councils/draw.html", draw=the_draw,
                           report=services.draw_report(the_draw), ticket=services.sortition.ticket,
                           stratum_title=services.stratum_title)


@bp.route("/<int:council_id>/bilan")
@public
def report(council_id: int):
    """A printable yearly report of the council's quartier (?annee=, this year by default)."""
    the_council = _council_or_404(council_id)
    try:
        year = int(request.args.get("annee", services.today().year))
    except ValueError:
        year = services.today().year
    if not 2000 <= year <= 2100:
        abort(404)
    return render_template("councils/report.html", council=the_council, year=year,
                           report=services.yearly_report(the_council, year))


@bp.route("/reunions/<int:meeting_id>")
@public
def meeting(meeting_id: int):
    """A meeting: agenda, attendance count and, once approved, the minutes."""
    the_meeting = _row_or_404(Meeting, meeting_id)
    return render_template("councils/meeting.html", meeting=the_meeting, form=ConfirmForm())


def _ics(text: str, filename: str) -> Response:
    resp = Response(text, mimetype="text/calendar")
    resp.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return resp


@bp.route("/reunions/<int:meeting_id>.ics")
@public
def meeting_ics(meeting_id: int):
    """One meeting as an iCalendar file."""
    the_meeting = _row_or_404(Meeting, meeting_id)
    return _ics(services.ical([the_meeting], the_meeting.council.name),
                f"reunion-{the_meeting.id}.ics")


@bp.route("/<int:council_id>/calendrier.ics")
@public
def calendar(council_id: int):
    """A council's meetings as an iCalendar feed to subscribe to."""
    the_council = _council_or_404(council_id)
    return _ics(services.ical(services.meetings_of(the_council), the_council.name),
                f"conseil-{the_council.id}.ics")


@bp.route("/<int:council_id>/candidater", methods=["GET", "POST"])
@requires("account")
def apply(council_id: int):
    """Volunteer for the draw of the council's habitants collège."""
    the_council = _council_or_404(council_id)
    form = VolunteerForm()
    if not form.is_submitted():
        form.published_name.data = current_user.display_name
        form.birth_year.data = current_user.birth_year
        if current_user.gender in ("female", "male"):
            form.gender.data = current_user.gender
    if form.validate_on_submit():
        with change(services.CouncilError, form,
                    _("Thank you: you are a volunteer for the next draw.")) as step:
            services.volunteer(current_user, the_council,
                               published_name=form.published_name.data,
                               gender=form.gender.data, birth_year=form.birth_year.data)
        if step.ok:
            return redirect(url_for("councils.council", council_id=the_council.id))
    refusal = services.apply_refusal(current_user, the_council)
    return render_template("councils/apply.html", form=form, council=the_council,
                           refusal=refusal), form_status(form)


# --- coordination -----------------------------------------------------------------------


@bp.route("/<int:council_id>/gestion")
@requires("councils.manage")
def manage(council_id: int):
    """Coordination of a council: members, volunteers, draws and meetings."""
    the_council = _council_or_404(council_id)
    volunteers = services.open_volunteers(the_council)
    counts: dict[str, int] = {}
    for v in volunteers:
        counts[v.gender] = counts.get(v.gender, 0) + 1
    return render_template(
        "councils/manage.html", council=the_council, counts=counts,
        members=services.current_members(the_council), checks=services.rule_checks(the_council),
        meetings=services.meetings_of(the_council), form=ConfirmForm(),
        volunteer_count=len(volunteers))


@bp.route("/<int:council_id>/membres/nouveau", methods=["GET", "POST"])
@requires("councils.manage")
def add_member(council_id: int):
    """Appoint a member of a collège."""
    the_council = _council_or_404(council_id)
    form = MemberForm()
    form.college.choices = [(c.value, c.title) for c in College]
    if form.validate_on_submit():
        with change(services.CouncilError, form, _("Member added.")) as step:
            services.add_member(
                current_user, the_council, published_name=form.published_name.data,
                college=form.college.data, gender=form.gender.data,
                organisation=form.organisation.data, email=form.email.data,
                term_start=form.term_start.data, term_end=form.term_end.data)
        if step.ok:
            return redirect(url_for("councils.manage", council_id=the_council.id))
    return render_template("councils/member_form.html", form=form,
                           council=the_council), form_status(form)


@bp.route("/membres/<int:member_id>/fin", methods=["POST"])
@requires("councils.manage")
def end_member(member_id: int):
    """End a member's term today."""
    member = _row_or_404(CouncilMember, member_id)
    confirmed()
    with change(services.CouncilError) as step:
        services.end_term(current_user, member)
        step.success = _("The term of %(name)s has ended.", name=member.published_name)
    return redirect(url_for("councils.manage", council_id=member.council_id))


@bp.route("/<int:council_id>/tirage", methods=["GET", "POST"])
@requires("councils.manage")
def run_draw(council_id: int):
    """Draw the habitants collège by lot, with parity, from a published seed."""
    the_council = _council_or_404(council_id)
    form = DrawForm()
    if form.validate_on_submit():
        with change(services.CouncilError, form,
                    _("The draw is done and its report published.")) as step:
            the_draw = services.run_draw(current_user, the_council, seats=form.seats.data,
                                         seed=form.seed.data, age_bands=form.age_bands.data,
                                         term_end=form.term_end.data)
        if step.ok:
            return redirect(url_for("councils.draw", draw_id=the_draw.id))
    return render_template("councils/draw_form.html", form=form, council=the_council,
                           volunteer_count=len(services.open_volunteers(the_council))
                           ), form_status(form)


@bp.route("/<int:council_id>/reunions/nouvelle", methods=["GET", "POST"])
@requires("councils.manage")
def new_meeting(council_id: int):
    """Plan a meeting with its agenda."""
    the_council = _council_or_404(council_id)
    form = MeetingForm()
    if form.validate_on_submit():
        with change(services.CouncilError, form, _("Meeting planned.")) as step:
            the_meeting = services.schedule_meeting(
                current_user, the_council, day=form.day.data, time=form.time.data,
                location=form.location.data, agenda=form.agenda.data,
                duration_minutes=form.duration.data)
        if step.ok:
            return redirect(url_for("councils.meeting", meeting_id=the_meeting.id))
    return render_template("councils/meeting_form.html", form=form,
                           council=the_council), form_status(form)


@bp.route("/reunions/<int:meeting_id>/convoquer", methods=["POST"])
@requires("councils.manage")
def convene(meeting_id: int):
    """Email the convocation to the members."""
    the_meeting = _row_or_404(Meeting, meeting_id)
    confirmed()
    with change(services.CouncilError) as step:
        sent = services.convene(current_user, the_meeting)
        step.success = _("Convocation sent to %(num)d members.", num=sent)
    return redirect(url_for("councils.meeting", meeting_id=the_meeting.id))


@bp.route("/reunions/<int:meeting_id>/presences", methods=["GET", "POST"])
@requires("councils.manage")
def attendance(meeting_id: int):
    """Record who attended a meeting."""
    the_meeting = _row_or_404(Meeting, meeting_id)
    form = AttendanceForm()
    members = services.attendance_members(the_meeting)
    form.present.choices = [(m.id, m.published_name) for m in members]
    if not form.is_submitted():
        form.present.data = [a.member_id for a in the_meeting.attendance if a.present]
    if form.validate_on_submit():
        with change(services.CouncilError, form, _("Attendance recorded.")) as step:
            services.record_attendance(current_user, the_meeting, form.present.data or [])
        if step.ok:
            return redirect(url_for("councils.meeting", meeting_id=the_meeting.id))
    return render_template("councils/attendance_form.html", form=form, meeting=the_meeting,
                           members=members), form_status(form)


@bp.route("/reunions/<int:meeting_id>/compte-rendu", methods=["GET", "POST"])
@requires("councils.manage")
def minutes(meeting_id: int):
    """Write the minutes, and publish them once the council has approved them."""
    the_meeting = _row_or_404(Meeting, meeting_id)
    form = MinutesForm()
    if not form.is_submitted():
        form.minutes.data = the_meeting.minutes
    if form.validate_on_submit():
        with change(services.CouncilError, form, _("Minutes saved.")) as step:
            services.save_minutes(current_user, the_meeting, minutes=form.minutes.data,
                                  approved=bool(form.approved.data))
        if step.ok:
            return redirect(url_for("councils.meeting", meeting_id=the_meeting.id))
    return render_template("councils/minutes_form.html", form=form,
                           meeting=the_meeting), form_status(form)


@bp.route("/questions")
@requires("councils.manage")
def questions():
    """Councils' questions waiting for the porteurs' answers."""
    return render_template("councils/questions.html",
                           questions=services.unanswered_questions())


@bp.route("/questions/<int:question_id>", methods=["GET", "POST"])
@requires("councils.manage")
def answer(question_id: int):
    """Answer a council's question for the porteur of the action."""
    question = _row_or_404(CouncilQuestion, question_id)
    form = AnswerForm()
    if not form.is_submitted():
        form.answer.data = question.answer
    if form.validate_on_submit():
        with change(services.CouncilError, form, _("Answer published.")) as step:
            services.answer_question(current_user, question, form.answer.data)
        if step.ok:
            return redirect(url_for("councils.questions"))
    return render_template("councils/answer_form.html", form=form,
                           question=question), form_status(form)


# --- porteurs of actions ---------------------------------------------------------------


@bp.route("/mes-questions")
@requires("actionplan.own")
def porteur_questions():
    """The councils' questions on the signed-in porteur's actions: waiting, then answered."""
    return render_template("councils/porteur_questions.html",
                           questions=services.questions_for_porteur(current_user),
                           answered=services.questions_for_porteur(current_user, answered=True))


@bp.route("/mes-questions/<int:question_id>", methods=["GET", "POST"])
@requires("actionplan.own")
def porteur_answer(question_id: int):
    """A porteur answers a council's question on one of their actions (403 on the others)."""
    question = _row_or_404(CouncilQuestion, question_id)
    if not actionplan.can_update_action(current_user, question.node):
        abort(403)
    form = AnswerForm()
    if not form.is_submitted():
        form.answer.data = question.answer
    if form.validate_on_submit():
        with change(services.CouncilError, form, _("Answer published.")) as step:
            services.answer_question(current_user, question, form.answer.data)
        if step.ok:
            return redirect(url_for("councils.porteur_questions"))
    return render_template("councils/answer_form.html", form=form,
                           question=question), form_status(form)


# --- council members --------------------------------------------------------------------


def _my_council_or_403(council_id: int) -> Council:
    the_council = _council_or_404(council_id)
    try:
        return services.member_council(current_user, the_council)
    except services.NotInYourCouncil:
        abort(403)


@bp.route("/<int:council_id>/suivi")
@requires("council.act")
def dashboard(council_id: int):
    """The actions of the council's quartier: status, late indicators, stale actions."""
    the_council = _my_council_or_403(council_id)
    return render_template("councils/dashboard.html", council=the_council,
                           rows=services.dashboard(the_council), months=services.STALE_MONTHS)


def _action_of(the_council: Council, node_id: int):  # noqa: ANN202
    action = actionplan.get_action(node_id)
    if action is None or not services.concerns(the_council, action):
        abort(404)
    return action


@bp.route("/<int:council_id>/avis/<int:node_id>", methods=["GET", "POST"])
@requires("council.act")
def give_avis(council_id: int, node_id: int):
    """Give (or update) the council's avis and rating on an action of its quartier."""
    the_council = _my_council_or_403(council_id)
    action = _action_of(the_council, node_id)
    form = AvisForm()
    form.opinion.choices = [(o.value, o.title) for o in Opinion]
    if form.validate_on_submit():
        with change(services.CouncilError, form, _("The council's avis is published.")) as step:
            services.give_avis(current_user, the_council, action, opinion=form.opinion.data,
                               rating=form.rating.data, text=form.text.data)
        if step.ok:
            return redirect(url_for("actionplan.node", node_id=action.id))
    return render_template("councils/avis_form.html", form=form, council=the_council,
                           action=action), form_status(form)


@bp.route("/<int:council_id>/questions/<int:node_id>", methods=["GET", "POST"])
@requires("council.act")
def ask(council_id: int, node_id: int):
    """Ask the porteur of an action of the council's quartier a question."""
    the_council = _my_council_or_403(council_id)
    action = _action_of(the_council, node_id)
    form = QuestionForm()
    if form.validate_on_submit():
        try:
            services.ask_question(current_user, the_council, action, form.text.data)
            db.session.commit()
        except services.CouncilError as exc:
            attach_error(form, exc)
        else:
            flash(_("Question sent; the answer will be published on the action's page."),
                  "success")
            return redirect(url_for("councils.dashboard", council_id=the_council.id))
    return render_template("councils/question_form.html", form=form, council=the_council,
                           action=action), form_status(form)
