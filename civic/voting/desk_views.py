"""Voting-desk pages: find a resident, mark a paper participation, key paper ballots,
and (coordination) reconcile the sheets two agents keyed differently.

Views are thin (form → one service → commit → redirect); civic.voting.desk holds the rules.
Every desk page checks that the agent's grant is scoped to the campaign (403 otherwise).
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import RadioField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length

from civic.accounts.models import User
from civic.budgeting.models import Campaign, Envelope
from civic.extensions import db
from civic.forms import digits
from civic.permissions import requires
from civic.viewutil import attach_error, change
from civic.voting import desk
from civic.voting.models import PaperSheet
from civic.voting.services import VoteError, ballot_options

bp = Blueprint("desk", __name__, url_prefix="/budget-participatif/bureau-de-vote")


class SearchForm(FlaskForm):
    """Find a resident by name or email (GET: nothing is changed)."""

    class Meta:
        csrf = False

    q = StringField(_l("Name or email address"), validators=[Length(max=254)],
                    description=_l("At least 3 characters of the name, or the full email "
                                   "address."))


class MarkForm(FlaskForm):
    """Hand paper ballots to a resident (the envelopes are checkboxes in the template)."""


class KeyForm(FlaskForm):
    """One agent keys one paper sheet (the choices are rendered by the template)."""

    sheet_number = StringField(_l("Sheet number"), validators=[InputRequired(),
                                                               Length(max=40)],
                               description=_l("The number printed on the paper ballot."))


class ReconcileForm(FlaskForm):
    """A coordinator decides about a sheet keyed differently by two agents."""

    decision = RadioField(_l("Decision"), choices=[
        ("key", _l("Count the sheet: I key it again from the paper")),
        ("void", _l("Void the sheet (spoilt, unreadable, not a ballot)"))],
        validators=[InputRequired()])
    note = TextAreaField(_l("Note"), validators=[InputRequired(), Length(max=2000)],
                         description=_l("Why: what the sheet shows, who checked it."))


def _campaign_for_desk(campaign_id: int) -> Campaign:
    """The campaign, if the signed-in agent staffs its desk (404 / 403 otherwise)."""
    campaign = db.get_or_404(Campaign, campaign_id)
    try:
        desk.check_desk_scope(current_user, campaign)
    except desk.NotYourCampaign:
        abort(403)
    return campaign


def _envelope_of(campaign: Campaign, envelope_id: int) -> Envelope:
    envelope = db.get_or_404(Envelope, envelope_id)
    if envelope.campaign_id != campaign.id:
        abort(404)
    return envelope


def read_choices(campaign: Campaign) -> tuple[dict[int, int], dict[str, str]]:
    """The choices of a posted ballot, and the raw values to show again.

    Approval and knapsack ballots post ``choice`` checkboxes; cumulative ballots post
    ``points-<id>`` numbers. Ids are taken as posted: a forged id reaches
    validate_choices, which refuses it with a message.
    """
    raw: dict[str, str] = {}
    choices: dict[int, int] = {}
    if campaign.ballot_format == "cumulative":
        for key, value in request.form.items():
            if not key.startswith("points-"):
                continue
            raw[key] = value[:10]
            if not value.strip():
                continue
            try:
                pid, points = int(key[7:]), int(value)
            except ValueError as exc:
                raise VoteError(_("Points are whole numbers."), "choices") from exc
            if points < 0 or points > 1000 or not 0 < pid < 2**31:
                raise VoteError(_("Points are whole numbers between 0 and 1000."),
                                "choices")
            if points:
                choices[pid] = points
    else:
        for value in request.form.getlist("choice"):
            raw[f"choice-{value[:12]}"] = "1"
            try:
                pid = int(value)
            except ValueError as exc:
                raise VoteError(_("This ballot names a project that is not on this "
                                  "envelope's ballot."), "choices") from exc
            if not 0 < pid < 2**31:
                raise VoteError(_("This ballot names a project that is not on this "
                                  "envelope's ballot."), "choices")
            choices[pid] = 1
    return choices, raw


@bp.route("/")
@requires("vote.desk")
def home():
    """The campaigns whose desk the agent staffs."""
    ids = desk.desk_campaign_ids(current_user)
    campaigns = list(db.session.execute(
        select(Campaign).where(Campaign.id.in_(ids)).order_by(Campaign.id.desc())).scalars())
    return render_template("voting/desk_home.html", campaigns=campaigns)


@bp.route("/<int:campaign_id>")
@requires("vote.desk")
def index(campaign_id: int):
    """Find a resident who comes to vote on paper; links to the keying of sheets."""
    campaign = _campaign_for_desk(campaign_id)
    form = SearchForm(request.args)
    residents = None
    status = 200
    if request.args.get("q") is not None and form.validate():
        try:
            residents = desk.find_residents(current_user, campaign, form.q.data)
        except desk.DeskError as exc:
            form.q.errors = [exc.message]
            status = 422
    elif form.errors:
        status = 422
    return render_template("voting/desk_index.html", campaign=campaign, form=form,
                           residents=residents, counts=desk.sheet_counts(campaign)), status


@bp.route("/<int:campaign_id>/habitants/<int:user_id>", methods=["GET", "POST"])
@requires("vote.desk")
def resident(campaign_id: int, user_id: int):
    """A resident at the desk: eligibility per envelope, and the paper participation."""
    campaign = _campaign_for_desk(campaign_id)
    person = db.get_or_404(User, user_id)
    if person.deleted_at is not None:
        abort(404)
    form = MarkForm()
    status = 200
    chosen: list[int] = []
    if form.is_submitted():
        status = 422
        raw = request.form.getlist("envelopes")
        chosen = [int(v) for v in raw if digits(v) and len(v) < 10]
    if form.validate_on_submit():
        try:
            marked = desk.mark_paper_participation(current_user, campaign, person, chosen)
            db.session.commit()
        except desk.NotYourCampaign:
            abort(403)
        except VoteError as exc:
            attach_error(form, exc)
        else:
            flash(_handed_out_message(len(marked), person.display_name), "success")
            return redirect(url_for("desk.resident", campaign_id=campaign.id,
                                    user_id=person.id))
    standings = desk.standing(current_user, campaign, person)
    return render_template("voting/desk_resident.html", campaign=campaign, person=person,
                           standings=standings, form=form, chosen=chosen), status


def _handed_out_message(num: int, name: str) -> str:
    """The confirmation shown once paper ballots were handed out."""
    return ngettext("%(name)s takes %(num)d paper ballot: their participation is recorded.",
                    "%(name)s takes %(num)d paper ballots: their participation is recorded.",
                    num, name=name)


@bp.route("/<int:campaign_id>/saisie")
@requires("vote.desk")
def keying(campaign_id: int):
    """Choose the envelope whose paper sheets are keyed."""
    campaign = _campaign_for_desk(campaign_id)
    envelopes = [(e, desk.keying_refusal(campaign, e)) for e in campaign.envelopes]
    return render_template("voting/desk_keying.html", campaign=campaign,
                           envelopes=envelopes, counts=desk.sheet_counts(campaign))


@bp.route("/<int:campaign_id>/saisie/<int:envelope_id>", methods=["GET", "POST"])
@requires("vote.desk")
def key(campaign_id: int, envelope_id: int):
    """Key one paper sheet of an envelope (each sheet is keyed by two agents)."""
    campaign = _campaign_for_desk(campaign_id)
    envelope = _envelope_of(campaign, envelope_id)
    form = KeyForm()
    refusal = desk.keying_refusal(campaign, envelope)
    raw: dict[str, str] = {}
    status = 200
    if form.is_submitted():
        status = 422
    if refusal is None and form.validate_on_submit():
        try:
            choices, raw = read_choices(campaign)
            result = desk.key_sheet(current_user, envelope, form.sheet_number.data, choices)
            number = result.sheet.sheet_number
            db.session.commit()
        except desk.NotYourCampaign:
            abort(403)
        except VoteError as exc:
            attach_error(form, exc)
        else:
            flash(_outcome_message(result.outcome, number),
                  "error" if result.outcome == "mismatch" else "success")
            return redirect(url_for("desk.key", campaign_id=campaign.id,
                                    envelope_id=envelope.id))
    elif form.is_submitted():
        try:
            _choices, raw = read_choices(campaign)
        except VoteError:
            raw = {}
    return render_template("voting/desk_key.html", campaign=campaign, envelope=envelope,
                           form=form, refusal=refusal, raw=raw,
                           options=ballot_options(campaign, envelope)), status


def _outcome_message(outcome: str, number: str) -> str:
    if outcome == "matched":
        return _("Sheet %(number)s is identical to the first keying: the ballot counts.",
                 number=number)
    if outcome == "mismatch":
        return _("Sheet %(number)s differs from the first keying: it goes to the "
                 "coordination for reconciliation.", number=number)
    return _("Sheet %(number)s is keyed: a second agent must key it too.", number=number)


# ---------------------------------------------------------------- reconciliation

@bp.route("/<int:campaign_id>/rapprochement")
@requires("budget.manage")
def reconciliation(campaign_id: int):
    """The campaign's paper sheets whose two keyings differ."""
    campaign = db.get_or_404(Campaign, campaign_id)
    return render_template("voting/desk_reconciliation.html", campaign=campaign,
                           sheets=desk.sheets_to_reconcile(campaign),
                           counts=desk.sheet_counts(campaign))


@bp.route("/<int:campaign_id>/rapprochement/<int:sheet_id>", methods=["GET", "POST"])
@requires("budget.manage")
def reconcile(campaign_id: int, sheet_id: int):
    """The two keyings side by side; the coordinator keys the sheet again or voids it."""
    campaign = db.get_or_404(Campaign, campaign_id)
    sheet = db.get_or_404(PaperSheet, sheet_id)
    if sheet.envelope.campaign_id != campaign.id:
        abort(404)
    form = ReconcileForm()
    raw: dict[str, str] = {}
    status = 200
    if form.is_submitted():
        status = 422
    if sheet.status == "mismatch" and form.validate_on_submit():
        with change(VoteError, form) as step:
            if form.decision.data == "void":
                desk.void_sheet(current_user, sheet, form.note.data)
                message = _("The sheet is void: it will not be counted.")
            else:
                choices, raw = read_choices(campaign)
                desk.resolve_sheet(current_user, sheet, choices, form.note.data)
                message = _("The sheet is reconciled: its ballot counts.")
            step.success = message
        if step.ok:
            return redirect(url_for("desk.reconciliation", campaign_id=campaign.id))
    elif form.is_submitted():
        try:
            _choices, raw = read_choices(campaign)
        except VoteError:
            raw = {}
    entries = [(e, desk.entry_choices(e), getattr(db.session.get(User, e.agent_id),
                                                  "display_name", "?"))
               for e in sheet.entries]
    return render_template("voting/desk_reconcile.html", campaign=campaign, sheet=sheet,
                           entries=entries, form=form, raw=raw,
                           options=ballot_options(campaign, sheet.envelope)), status
