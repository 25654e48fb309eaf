"""The online vote: the vote page of a campaign, the ballot, its review, the confirmation
with its receipt, and changing a vote with the receipt.

Views are thin: read the form → one service → commit → render or redirect. The rules
(phase, eligibility, formats, one ballot per voter) are the services'. The receipt is
shown once, in the response to Confirm, and never stored; changing a vote carries the
receipt in the forms (hidden fields), never in the session or a URL.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import defer, joinedload

from civic.budgeting import services as budget
from civic.budgeting.models import Campaign, Envelope
from civic.budgeting.states import Phase
from civic.extensions import db
from civic.permissions import public, requires, user_can
from civic.territory.models import Quartier
from civic.viewutil import attach_error, form_status
from civic.voting import services as vote
from civic.voting.ballots import MalformedChoices, format_choices, parse_choices
from civic.voting.forms import BallotForm, ConfirmVoteForm, ReceiptForm, read_choices

bp = Blueprint("voting", __name__, url_prefix="/budget-participatif")


def _campaign_or_404(campaign_id: int) -> Campaign:
    campaign = db.get_or_404(Campaign, campaign_id)
    if not budget.campaign_is_public(campaign) and not user_can(current_user, "budget.manage"):
        abort(404)
    return campaign


def _envelope_or_404(envelope_id: int) -> Envelope:
    """The envelope with its campaign, and its quartier and commune for the label, in one
    query (the campaign loaded apart was dropped from the identity map and read again, and
    the label cost two lazy loads)."""
    envelope = db.session.execute(
        select(Envelope).where(Envelope.id == envelope_id).options(
            joinedload(Envelope.campaign),
            joinedload(Envelope.quartier).options(defer(Quartier.outline_geojson),
                                                  joinedload(Quartier.commune)))
    ).unique().scalar_one_or_none()
    if envelope is None:
        abort(404)
    if not budget.campaign_is_public(envelope.campaign) \
            and not user_can(current_user, "budget.manage"):
        abort(404)
    return envelope


def _commit_keeping_loaded() -> None:
    """Commit, keeping what this request loaded and wrote as it is: the receipt page then
    shows the envelope, campaign, voter and participation without reading them back (an
    expire-on-commit would re-select each). Only for a commit that ends the work: nothing
    after it may rely on reading the database again."""
    session = db.session()
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = True


def envelope_label(envelope: Envelope) -> str:
    """The envelope's name as residents read it."""
    if envelope.quartier is None:
        return _("Whole city")
    return envelope.quartier.label


# ---------------------------------------------------------------- the vote page

@bp.route("/campagnes/<int:campaign_id>/vote")
@public
def vote_page(campaign_id: int):
    """The voter's envelopes: for each, why they cannot vote, their draft, or their vote."""
    campaign = _campaign_or_404(campaign_id)
    if budget.sync_phase(campaign):  # the first visit after the vote opens does its work
        db.session.commit()
    phase = campaign.phase()
    user = current_user if current_user.is_authenticated else None
    person_reason = None
    rows = []
    if user is not None:
        person_reason = vote.person_eligibility(user, campaign)
    for envelope in vote.envelopes_of(user, campaign):
        row = {"envelope": envelope, "label": envelope_label(envelope),
               "options": len(vote.ballot_options(campaign, envelope)),
               "participation": None, "draft": None, "reason": None}
        if user is not None:
            row["participation"] = vote.participation_of(user, envelope)
            row["draft"] = vote.draft_of(user, envelope)
            if row["participation"] is None:
                row["reason"] = vote.vote_eligibility(user, campaign, envelope)
        rows.append(row)
    return render_template("voting/vote_page.html", campaign=campaign, phase=phase,
                           Phase=Phase, rows=rows, person_reason=person_reason,
                           no_quartier=user is not None and user.quartier_id is None)


# ---------------------------------------------------------------- building the ballot

def _render_ballot(envelope: Envelope, form: BallotForm, selected: dict[int, int], *,
                   reason: str | None = None, status: int = 200,
                   participation=None):  # noqa: ANN001, ANN202
    campaign = envelope.campaign
    return render_template(
        "voting/vote_ballot.html", campaign=campaign, envelope=envelope,
        label=envelope_label(envelope), options=vote.ballot_options(campaign, envelope),
        selected=selected, form=form, reason=reason, participation=participation,
        changing=bool(form.receipt.data)), status


def _form_error(form: BallotForm, exc: vote.VoteError) -> None:
    """A refusal at the top of the ballot form (the receipt is a hidden field there)."""
    db.session.rollback()
    form.form_errors.append(exc.message)


@bp.route("/vote/<int:envelope_id>/bulletin", methods=["GET", "POST"])
@requires("account")
def ballot(envelope_id: int):
    """Build the ballot (saved as a draft), then go to the review page."""
    envelope = _envelope_or_404(envelope_id)
    campaign = envelope.campaign
    form = BallotForm()
    participation = vote.participation_of(current_user, envelope)
    if request.method == "GET":
        reason = vote.vote_eligibility(current_user, campaign, envelope)
        if participation is not None:
            return _render_ballot(envelope, form, {}, participation=participation)
        draft = vote.draft_of(current_user, envelope)
        return _render_ballot(envelope, form, vote.draft_choices(draft), reason=reason)
    if not form.validate_on_submit():
        form.form_errors.append(_("The form has expired: send it again."))
        return _render_ballot(envelope, form, {}, status=400)
    try:
        choices = read_choices(request.form, campaign.ballot_format)
    except vote.VoteError as exc:
        _form_error(form, exc)
        return _render_ballot(envelope, form, {}, status=422)
    if form.receipt.data:  # changing a vote: nothing saved until Confirm
        try:
            vote.current_choices(current_user, envelope, form.receipt.data)
            vote.validate_choices(campaign, envelope, choices)
        except vote.VoteError as exc:
            _form_error(form, exc)
            return _render_ballot(envelope, form, choices, status=422)
        return _render_review(envelope, choices, receipt=form.receipt.data)
    try:
        vote.save_draft(current_user, envelope, choices)
        db.session.commit()
    except vote.AlreadyVoted as exc:
        db.session.rollback()
        flash(exc.message, "info")
        return redirect(url_for("voting.vote_page", campaign_id=campaign.id))
    except vote.VoteError as exc:
        _form_error(form, exc)
        reason = vote.vote_eligibility(current_user, campaign, envelope)
        return _render_ballot(envelope, form, choices, reason=reason, status=422)
    try:
        vote.validate_choices(campaign, envelope, choices)
    except vote.VoteError as exc:
        _form_error(form, exc)
        return _render_ballot(envelope, form, choices, status=422)
    return redirect(url_for("voting.review", envelope_id=envelope.id))


# ---------------------------------------------------------------- review and confirm

def _render_review(envelope: Envelope, choices: dict[int, int], *, receipt: str = "",
                   error: str | None = None, status: int = 200):  # noqa: ANN202
    campaign = envelope.campaign
    summary = vote.ballot_summary(campaign, envelope, choices)
    form = ConfirmVoteForm(formdata=None, choices=format_choices(choices),
                           token=vote.new_confirmation_token(), receipt=receipt)
    return render_template("voting/vote_review.html", campaign=campaign, envelope=envelope,
                           label=envelope_label(envelope), summary=summary, form=form,
                           error=error, changing=bool(receipt)), status


@bp.route("/vote/<int:envelope_id>/verifier")
@requires("account")
def review(envelope_id: int):
    """The ballot before it counts: the chosen projects and the totals, then Confirm."""
    envelope = _envelope_or_404(envelope_id)
    campaign = envelope.campaign
    if vote.participation_of(current_user, envelope) is not None:
        flash(_("Your vote in this envelope is already recorded. To change it, use your "
                "receipt."), "info")
        return redirect(url_for("voting.vote_page", campaign_id=campaign.id))
    reason = vote.vote_eligibility(current_user, campaign, envelope)
    if reason:
        return _render_review(envelope, {}, error=reason)
    choices = vote.draft_choices(vote.draft_of(current_user, envelope))
    if not choices:
        flash(_("Choose at least one project."), "info")
        return redirect(url_for("voting.ballot", envelope_id=envelope.id))
    try:
        vote.validate_choices(campaign, envelope, choices)
    except vote.VoteError as exc:
        return _render_review(envelope, choices, error=exc.message)
    return _render_review(envelope, choices)


@bp.route("/vote/<int:envelope_id>/confirmer", methods=["POST"])
@requires("account")
def confirm(envelope_id: int):
    """Record the reviewed ballot and show the receipt, once. A double click or a replay
    shows the same receipt again; it never records a second ballot."""
    envelope = _envelope_or_404(envelope_id)
    campaign = envelope.campaign
    form = ConfirmVoteForm()
    if not form.validate_on_submit():
        flash(_("The form has expired: review your ballot and confirm again."), "error")
        return redirect(url_for("voting.vote_page", campaign_id=campaign.id))
    token = form.token.data or vote.new_confirmation_token()
    receipt_given = (form.receipt.data or "").strip()
    try:
        choices = parse_choices(form.choices.data or "")
    except MalformedChoices:
        choices = None
    try:
        if choices is None:
            raise vote.VoteError(_("This ballot could not be read: choose projects with the "
                                   "form of this page."))
        next_receipt = vote.confirmation_receipt(current_user, envelope, token)
        if receipt_given:
            receipt = vote.change_ballot(current_user, envelope, receipt_given, choices,
                                         next_receipt=next_receipt)
            participation = vote.participation_of(current_user, envelope)
        else:
            receipt, participation = vote.record_ballot(current_user, envelope, choices,
                                                        receipt=next_receipt)
        _commit_keeping_loaded()
    except vote.VoteError as exc:
        db.session.rollback()
        participation = vote.participation_of(current_user, envelope)
        replayed = vote.replayed_receipt(current_user, envelope, form.token.data,
                                         participation=participation)
        if replayed:
            return _render_recorded(envelope, replayed, participation, replayed=True)
        flash(exc.message, "error")
        if isinstance(exc, vote.AlreadyVoted) or receipt_given \
                or vote.vote_eligibility(current_user, campaign, envelope):
            return redirect(url_for("voting.vote_page", campaign_id=campaign.id))
        return redirect(url_for("voting.ballot", envelope_id=envelope.id))
    return _render_recorded(envelope, receipt, participation, changed=bool(receipt_given))


def _render_recorded(envelope: Envelope, receipt: str, participation, *,  # noqa: ANN001
                     replayed: bool = False, changed: bool = False):  # noqa: ANN202
    return render_template("voting/vote_recorded.html", campaign=envelope.campaign,
                           envelope=envelope, label=envelope_label(envelope),
                           receipt=receipt, participation=participation, replayed=replayed,
                           changed=changed)


# ---------------------------------------------------------------- changing a vote

@bp.route("/vote/<int:envelope_id>/modifier", methods=["GET", "POST"])
@requires("account")
def change(envelope_id: int):
    """Change a confirmed vote: the receipt proves the ballot is the voter's, then the
    ballot form opens with the current choices."""
    envelope = _envelope_or_404(envelope_id)
    campaign = envelope.campaign
    form = ReceiptForm()
    participation = vote.participation_of(current_user, envelope)
    reason = vote.vote_eligibility(current_user, campaign, envelope)
    if participation is None and not reason:
        reason = _("You have not voted in this envelope yet.")
    elif participation is not None and participation.channel != "online" and not reason:
        reason = _("You voted on paper: a paper ballot cannot be changed.")
    if form.validate_on_submit() and not reason:
        try:
            choices = vote.current_choices(current_user, envelope, form.receipt.data)
        except vote.VoteError as exc:
            attach_error(form, exc)
        else:
            code = vote.normalise_receipt(form.receipt.data)
            ballot_form = BallotForm(formdata=None, receipt=code)
            try:  # back from the review page: the choices being made, not the stored ones
                choices = parse_choices(request.form.get("choices", "")) or choices
            except MalformedChoices:
                pass
            return _render_ballot(envelope, ballot_form, choices)
    return render_template("voting/vote_change.html", campaign=campaign, envelope=envelope,
                           label=envelope_label(envelope), form=form, reason=reason,
                           participation=participation), form_status(form)
