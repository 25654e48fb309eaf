"""Bienveilleurs pages: thin views (form → one service → commit → redirect).

Referral and conciergerie pages never load their subject directly: they call
services.open_referral / open_job, which check the relation and write the access log; a
refusal is committed (so the attempt stays in the log) and answered with 403.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from civic.bienveilleurs import services
from civic.bienveilleurs import states as st
from civic.bienveilleurs.cli import register as register_cli
from civic.bienveilleurs.forms import (
    AnswerForm,
    ApplyForm,
    CloseJobForm,
    DirectorySearchForm,
    InterlocutorForm,
    JobPersonalDataForm,
    JobRequestForm,
    MemberDecisionForm,
    OfferForm,
    PersonalDataForm,
    ReferralForm,
    ReferralStepForm,
)
from civic.bienveilleurs.models import Interlocutor, JobOffer, NetworkMember, Referral
from civic.extensions import db
from civic.forms import optional_int, quartier_choices
from civic.permissions import public, requires, user_can
from civic.territory.models import Quartier
from civic.viewutil import Change, ConfirmForm, attach_error, change, confirmed, form_status

bp = Blueprint("bienveilleurs", __name__, cli_group="bienveilleurs")
register_cli(bp)


@bp.app_context_processor
def _titles() -> dict:
    return {"bv": st}


@bp.app_template_filter("titles")
def _titles_of(codes: list[str], mapping: dict) -> str:
    """Translated titles of codes, comma-separated."""
    return ", ".join(str(mapping[c]) for c in codes if c in mapping)


def _refused() -> None:
    """Keep the logged refusal, then answer 403."""
    db.session.commit()
    abort(403)


@contextmanager
def _step() -> Iterator[Change]:
    """Run one change from a coordination form (viewutil.change: committed and its
    success flashed, a service refusal flashed with nothing written); an unknown record
    answers 404, a refused access a logged 403."""
    try:
        with change(services.BienveilleursError) as step:
            yield step
    except LookupError:
        abort(404)
    except services.AccessRefused:
        _refused()


# ---------------------------------------------------------------- public pages

@bp.route("/bienveilleurs/reseau")
@public
def index():
    """The network: what it does, how to join, the directory and the conciergerie."""
    return render_template("bienveilleurs/index.html")


@bp.route("/bienveilleurs/rejoindre")
@public
def join():
    """How to become a bienveilleur, and the charter."""
    member = services.member_of(current_user) if current_user.is_authenticated else None
    return render_template("bienveilleurs/join.html", member=member,
                           charter_version=services.CHARTER_VERSION)


@bp.route("/bienveilleurs/annuaire")
@public
def directory():
    """The directory of interlocutors, searchable by need and quartier."""
    form = DirectorySearchForm(request.args)
    form.quartier.populate()
    form.quartier.choices[0] = ("", _("All quartiers"))
    need = form.need.data if form.need.data in st.NEEDS else None
    quartier_id = form.quartier.data if not form.quartier.errors else None
    include_private = user_can(current_user, "network.manage")
    rows = services.search_directory(need=need, quartier_id=quartier_id,
                                     include_private=include_private)
    quartier = db.session.get(Quartier, quartier_id) if quartier_id else None
    return render_template("bienveilleurs/directory.html", form=form, rows=rows,
                           quartier=quartier, need=need, include_private=include_private)


@bp.route("/bienveilleurs/annuaire/<int:quartier_id>/fiche")
@public
def sheet(quartier_id: int):
    """A one-page "who to call" sheet for a quartier, to print for people without internet."""
    quartier = db.get_or_404(Quartier, quartier_id)
    rows = services.search_directory(quartier_id=quartier.id)
    return render_template("bienveilleurs/sheet.html", quartier=quartier, rows=rows)


# ---------------------------------------------------------------- the network

@bp.route("/bienveilleurs/candidature", methods=["GET", "POST"])
@requires("account")
def apply():
    """Apply to become a bienveilleur and sign the charter."""
    member = services.member_of(current_user)
    form = ApplyForm()
    form.quartier_id.populate()
    if form.validate_on_submit():
        try:
            services.apply_to_network(
                current_user, member_type=form.member_type.data,
                quartier_id=form.quartier_id.data, languages=form.languages.data,
                availability=form.availability.data, topics=form.topics.data,
                charter_accepted=form.charter.data)
            db.session.commit()
        except services.BienveilleursError as exc:
            attach_error(form, exc)
        else:
            flash(_("Thank you: your application has been sent to the coordination team."),
                  "success")
            return redirect(url_for("bienveilleurs.join"))
    elif not form.is_submitted() and current_user.quartier_id:
        form.quartier_id.data = current_user.quartier_id
    return render_template("bienveilleurs/apply.html", form=form, member=member,
                           charter_version=services.CHARTER_VERSION), form_status(form)


@bp.route("/bienveilleurs/mon-espace")
@requires("bienveilleur.space")
def space():
    """A bienveilleur's space: the guide, the charter, their referrals."""
    referrals = [r for r in services.visible_referrals(current_user)
                 if r.author_id == current_user.id]
    return render_template("bienveilleurs/space.html", referrals=referrals,
                           member=services.member_of(current_user))


@bp.route("/bienveilleurs/coordination/membres")
@requires("network.manage")
def members():
    """Applications and members, with the coordinators' decisions."""
    rows = db.session.execute(
        select(NetworkMember).order_by(NetworkMember.status, NetworkMember.applied_at.desc())
    ).scalars().all()
    return render_template("bienveilleurs/members.html", rows=rows, form=MemberDecisionForm())


@bp.route("/bienveilleurs/coordination/membres/<int:member_id>", methods=["POST"])
@requires("network.manage")
def member_decide(member_id: int):
    """Validate, refuse, suspend or reinstate a member."""
    member = db.get_or_404(NetworkMember, member_id)
    form = MemberDecisionForm()
    if not form.validate_on_submit():
        abort(400)
    with _step() as step:
        services.decide_member(current_user, member, form.action.data or "")
        step.success = _("Decision recorded.")
    return redirect(url_for("bienveilleurs.members"))


@bp.route("/bienveilleurs/coordination/interlocuteurs/nouveau", methods=["GET", "POST"])
@bp.route("/bienveilleurs/coordination/interlocuteurs/<int:interlocutor_id>",
          methods=["GET", "POST"])
@requires("network.manage")
def interlocutor_edit(interlocutor_id: int | None = None):
    """Add or edit an organisation of the directory."""
    org = db.get_or_404(Interlocutor, interlocutor_id) if interlocutor_id else None
    form = InterlocutorForm(obj=org if request.method == "GET" else None)
    form.quartier_ids.choices = [(q_id, label) for q_id, label in
                                 ((int(v), lbl) for v, lbl in quartier_choices()[1:])]
    if request.method == "GET" and org is not None:
        form.topics.data = org.topic_list
        form.quartier_ids.data = [q.id for q in org.quartiers]
    if form.validate_on_submit():
        with change(services.BienveilleursError, form, _("Saved.")) as step:
            org = services.save_interlocutor(
                current_user, org, name=form.name.data, kind=form.kind.data,
                topics=form.topics.data, quartier_ids=form.quartier_ids.data,
                opening_hours=form.opening_hours.data, languages=form.languages.data,
                phone=form.phone.data, email=form.email.data, address=form.address.data,
                how_to_refer=form.how_to_refer.data, is_public=form.is_public.data,
                is_active=form.is_active.data)
        if step.ok:
            return redirect(url_for("bienveilleurs.directory"))
    return (render_template("bienveilleurs/interlocutor_form.html", form=form, org=org),
            form_status(form))


@bp.route("/bienveilleurs/coordination/couverture")
@requires("network.manage")
def coverage():
    """The network's coverage per quartier and need, and its gaps (as a table, and as a map
    of the quartiers shaded by how many needs nobody covers there)."""
    from civic.budgeting.mapsvg import outline_map

    cov = services.network_coverage()
    gaps = Counter(q.id for q, _need in cov.gaps)
    try:
        drawn = outline_map(cov.quartiers)
    except (ValueError, TypeError, KeyError):  # an outline the map cannot draw: no map
        drawn = None
    areas = [(d, name, gaps[qid]) for (d, name), qid in zip(drawn.paths, drawn.ids,
                                                           strict=True)] if drawn else []
    return render_template("bienveilleurs/coverage.html", cov=cov, drawn=drawn, areas=areas)


@bp.route("/bienveilleurs/statistiques")
@requires("bienveilleurs.stats")
def statistics():
    """Aggregated statistics per quartier and year; counts under 5 are not shown."""
    this_year = date.today().year
    year = request.args.get("year", this_year, type=int)
    if not (2000 <= year <= this_year):
        year = this_year
    stats = services.published_statistics(year)
    db.session.commit()  # the first reading after a period closes publishes it
    return render_template("bienveilleurs/statistics.html", stats=stats, year=year,
                           years=range(this_year, this_year - 10, -1),
                           threshold=services.SUPPRESSION_THRESHOLD,
                           revise_form=ConfirmForm())


@bp.route("/bienveilleurs/statistiques/<int:year>/reviser", methods=["POST"])
@requires("network.manage")
def statistics_revise(year: int):
    """Publish a year's figures again from today's data (a new, audited revision)."""
    confirmed()
    if not 2000 <= year <= date.today().year:
        abort(404)
    with _step() as step:
        stats = services.revise_statistics(current_user, year)
        step.success = _("Revision %(n)d of the figures is published.", n=stats.revision)
    return redirect(url_for("bienveilleurs.statistics", year=year))


# ---------------------------------------------------------------- referrals

@bp.route("/bienveilleurs/signalements")
@requires("account")
def referrals():
    """The referrals this user may follow (authored, followed, or handed to their
    organisation)."""
    return render_template("bienveilleurs/referrals.html",
                           rows=services.visible_referrals(current_user))


@bp.route("/bienveilleurs/signalements/nouveau", methods=["GET", "POST"])
@requires("account")
def referral_new():
    """Record that someone needs to be contacted (or ask for help for oneself)."""
    form = ReferralForm()
    form.quartier_id.populate()
    origin = services.referral_origin(current_user)
    if form.validate_on_submit():
        with change(services.BienveilleursError, form) as step:
            referral = services.record_referral(
                current_user, quartier_id=form.quartier_id.data, need=form.need.data,
                urgency=form.urgency.data, consent=form.consent.data,
                person_name=form.person_name.data, contact=form.contact.data,
                note=form.note.data)
            step.success = _("Referral #%(id)d recorded. Thank you.", id=referral.id)
        if step.ok:
            return redirect(url_for("bienveilleurs.referral", referral_id=referral.id))
    elif not form.is_submitted() and origin == "self":
        form.person_name.data = current_user.display_name
        form.quartier_id.data = current_user.quartier_id
    return render_template("bienveilleurs/referral_new.html", form=form,
                           origin=origin), form_status(form)


@bp.route("/bienveilleurs/signalements/<int:referral_id>")
@requires("account")
def referral(referral_id: int):
    """One referral, its history and its access log — for the people in charge only."""
    try:
        r, rel = services.open_referral(current_user, referral_id)
    except LookupError:
        abort(404)
    except services.AccessRefused:
        _refused()
    data = services.personal_data(r)
    db.session.commit()  # the read is logged even if rendering fails later
    steps = services.allowed_referral_transitions(current_user, r, rel)
    form = ReferralStepForm()
    form.interlocutor_id.choices = [("", _("— Choose —"))] + [
        (i.id, i.name) for i in services.active_interlocutors()]
    return render_template("bienveilleurs/referral.html", r=r, rel=rel, data=data,
                           steps=steps, form=form, take_form=ConfirmForm(),
                           log=services.access_log("referral", r.id))


@bp.route("/bienveilleurs/signalements/<int:referral_id>/corriger", methods=["GET", "POST"])
@requires("account")
def referral_correct(referral_id: int):
    """Correct the person's details on a referral (right to rectification)."""
    return _correct("referral", referral_id, PersonalDataForm(),
                    url_for("bienveilleurs.referral", referral_id=referral_id))


@bp.route("/conciergerie-emploi/<int:job_id>/corriger", methods=["GET", "POST"])
@requires("account")
def job_correct(job_id: int):
    """Correct the person's details on a conciergerie request."""
    return _correct("job", job_id, JobPersonalDataForm(),
                    url_for("bienveilleurs.job_request", job_id=job_id))


def _correct(kind: str, subject_id: int, form: PersonalDataForm, back: str):  # noqa: ANN202
    """The correction form, filled with the details as they are (a logged read)."""
    try:
        subject = services.open_to_correct(current_user, kind, subject_id,
                                           reading=not form.is_submitted())
    except LookupError:
        abort(404)
    except services.AccessRefused:
        _refused()
    if not form.is_submitted():
        data = services.personal_data(subject)
        form.person_name.data, form.contact.data, form.note.data = (
            data.name, data.contact, data.note)
        db.session.commit()  # the read is logged
    elif form.validate_on_submit():
        with change(services.BienveilleursError, form,
                    _("The person's details are corrected.")) as step:
            services.correct_personal_data(
                current_user, subject, person_name=form.person_name.data,
                contact=form.contact.data, note=form.note.data or "")
        if step.ok:
            return redirect(back)
    return (render_template("bienveilleurs/correct.html", form=form, subject=subject,
                            back=back), form_status(form))


@bp.route("/bienveilleurs/signalements/<int:referral_id>/etape", methods=["POST"])
@requires("account")
def referral_step(referral_id: int):
    """Move a referral one step along the pipeline."""
    form = ReferralStepForm()
    if not form.validate_on_submit():
        abort(400)
    with _step() as step:
        r, _rel = services.open_referral(current_user, referral_id, purpose="change")
        services.transition_referral(
            current_user, r, form.to_status.data or "",
            interlocutor_id=form.interlocutor_id.data, outcome=form.outcome.data,
            consent_given=form.consent_given.data)
        step.success = _("Step recorded.")
    return redirect(url_for("bienveilleurs.referral", referral_id=referral_id))


@bp.route("/bienveilleurs/signalements/<int:referral_id>/suivre", methods=["POST"])
@requires("referrals.coordinate")
def referral_take(referral_id: int):
    """A coordinator takes charge of a referral waiting in the queue."""
    r = db.get_or_404(Referral, referral_id)
    confirmed()
    try:
        services.take_referral(current_user, r)
        db.session.commit()
    except services.AccessRefused:
        _refused()
    return redirect(url_for("bienveilleurs.referral", referral_id=r.id))


@bp.route("/bienveilleurs/coordination")
@requires("referrals.coordinate")
def coordination():
    """The coordination queue: referrals and requests waiting for someone (no personal
    data is shown until a coordinator takes one)."""
    pending = db.session.execute(
        select(NetworkMember).where(NetworkMember.status == "candidate")).scalars().all()
    return render_template("bienveilleurs/coordination.html",
                           queue=services.unassigned_referrals(), pending=pending,
                           form=ConfirmForm())


# ---------------------------------------------------------------- conciergerie de l'emploi

@bp.route("/conciergerie-emploi")
@requires("account")
def job_requests():
    """My conciergerie requests, and the offers waiting for my organisation's answer."""
    return render_template("bienveilleurs/job_requests.html",
                           rows=services.visible_job_requests(current_user),
                           offers=services.pending_offers(current_user), form=AnswerForm())


@bp.route("/conciergerie-emploi/nouvelle", methods=["GET", "POST"])
@requires("account")
def job_new():
    """Open a conciergerie request: a barrier stands between a person and a job."""
    form = JobRequestForm()
    form.quartier_id.populate()
    if form.validate_on_submit():
        with change(services.BienveilleursError, form) as step:
            jr = services.open_job_request(
                current_user, opener=form.opener.data, quartier_id=form.quartier_id.data,
                barrier=form.barrier.data, position_kind=form.position_kind.data,
                start_date=form.start_date.data, consent_given=form.consent.data,
                person_name=form.person_name.data, contact=form.contact.data,
                note=form.note.data)
            step.success = _("Request #%(id)d opened.", id=jr.id)
        if step.ok:
            return redirect(url_for("bienveilleurs.job_request", job_id=jr.id))
    return render_template("bienveilleurs/job_new.html", form=form), form_status(form)


@bp.route("/conciergerie-emploi/<int:job_id>")
@requires("account")
def job_request(job_id: int):
    """One request: in full for the people in charge, as a summary for an offered
    professional who has not accepted yet."""
    try:
        jr, rel = services.open_job(current_user, job_id)
    except LookupError:
        abort(404)
    except services.AccessRefused:
        _refused()
    full = bool(rel - {"offered"})
    data = services.personal_data(jr) if full else None
    db.session.commit()
    offer_form = OfferForm()
    offered = {o.interlocutor_id for o in jr.offers}
    offer_form.interlocutor_ids.choices = [
        (i.id, i.name) for i in services.active_interlocutors() if i.id not in offered]
    my_offers = [o for o in jr.offers if o.answer == "pending"
                 and current_user.has_role("interlocutor", o.interlocutor_id)]
    return render_template("bienveilleurs/job_request.html", jr=jr, rel=rel, data=data,
                           full=full, offer_form=offer_form, close_form=CloseJobForm(),
                           answer_form=AnswerForm(), take_form=ConfirmForm(),
                           my_offers=my_offers,
                           log=services.access_log("job", jr.id) if full else [])


@bp.route("/conciergerie-emploi/<int:job_id>/proposer", methods=["POST"])
@requires("account")
def job_offer(job_id: int):
    """Offer the request to professionals."""
    form = OfferForm()
    form.interlocutor_ids.choices = []
    if not form.validate_on_submit():
        abort(400)
    with _step() as step:
        jr, _rel = services.open_job(current_user, job_id, purpose="offer")
        n = services.offer_job_request(current_user, jr, form.interlocutor_ids.data or [])
        step.success = _("Offered to %(num)d professional(s).", num=n)
    return redirect(url_for("bienveilleurs.job_request", job_id=job_id))


@bp.route("/conciergerie-emploi/offres/<int:offer_id>", methods=["POST"])
@requires("conciergerie.answer")
def job_answer(offer_id: int):
    """A professional accepts or declines an offer."""
    offer = db.get_or_404(JobOffer, offer_id)
    form = AnswerForm()
    if not form.validate_on_submit():
        abort(400)
    with _step() as step:
        if form.answer.data not in ("accept", "decline"):
            raise services.BienveilleursError(_("Choose an option from the list."))
        services.answer_offer(current_user, offer, form.answer.data == "accept")
        step.success = _("Answer recorded.")
    if not step.ok:
        return redirect(url_for("bienveilleurs.job_requests"))
    if form.answer.data == "accept":
        return redirect(url_for("bienveilleurs.job_request", job_id=offer.request_id))
    return redirect(url_for("bienveilleurs.job_requests"))


@bp.route("/conciergerie-emploi/<int:job_id>/cloturer", methods=["POST"])
@requires("account")
def job_close(job_id: int):
    """Close a request with its outcome."""
    form = CloseJobForm()
    if not form.validate_on_submit() and "csrf_token" in form.errors:
        abort(400)
    with _step() as step:
        jr, _rel = services.open_job(current_user, job_id, purpose="close")
        services.close_job_request(current_user, jr, form.outcome.data)
        step.success = _("Request closed.")
    return redirect(url_for("bienveilleurs.job_request", job_id=job_id))


@bp.route("/conciergerie-emploi/<int:job_id>/suivre", methods=["POST"])
@requires("referrals.coordinate")
def job_take(job_id: int):
    """A coordinator follows a request from the board."""
    from civic.bienveilleurs.models import JobRequest

    jr = db.get_or_404(JobRequest, job_id)
    confirmed()
    try:
        services.take_job_request(current_user, jr)
        db.session.commit()
    except services.AccessRefused:
        _refused()
    return redirect(url_for("bienveilleurs.job_request", job_id=jr.id))


@bp.route("/conciergerie-emploi/tableau")
@requires("referrals.coordinate")
def job_board():
    """The conciergerie board: time to first answer against the target, requests at risk."""
    return render_template("bienveilleurs/job_board.html",
                           board=services.conciergerie_board(), form=ConfirmForm())


__all__ = ["optional_int"]
