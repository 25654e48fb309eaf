"""Casting and replacing ballots: eligibility, the three ballot formats, one voter one ballot.

Services validate, change state and flush; the view commits once (STYLE.md). Refusals are
VoteError with a translated message. The secrecy design is in civic/voting/models.py.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from civic.accounts.models import User
from civic.accounts.services import EXPORT_SECTIONS
from civic.budgeting.models import Campaign, Envelope, Proposal
from civic.budgeting.services import BudgetError, euros
from civic.budgeting.states import Phase, ProposalStatus
from civic.extensions import db
from civic.timeutil import utcnow
from civic.voting.ballots import (
    MalformedChoices,
    ballot_lookup,
    format_choices,
    new_receipt,
    normalise_receipt,
    parse_choices,
    receipt_check,
)
from civic.voting.models import Ballot, BallotDraft, VoteParticipation


class VoteError(BudgetError):
    """A refusal the voter can act on (message, and the form field when there is one)."""


class AlreadyVoted(VoteError):
    """The database already holds this voter's participation in this envelope."""


# ---------------------------------------------------------------- eligibility

def person_eligibility(user: User, campaign: Campaign) -> str | None:
    """Why this person cannot vote in this campaign at all (None: they can), phase aside."""
    if user.deleted_at is not None:
        return _("This account has been deleted.")
    if campaign.min_age:
        if user.birth_year is None:
            return _("This vote is open from the age of %(age)d: add your year of birth "
                     "to your profile.", age=campaign.min_age)
        if date.today().year - user.birth_year < campaign.min_age:
            return _("This vote is open from the age of %(age)d.", age=campaign.min_age)
    if campaign.require_verified and not user.is_verified:
        return _("This vote requires a verified residency: ask the politique de la ville "
                 "team or a counter to verify it.")
    if campaign.require_residence and user.quartier_id is None:
        return _("This vote is for residents: add your quartier to your profile (the "
                 "city may ask for proof).")
    return None


def vote_eligibility(user: User, campaign: Campaign, envelope: Envelope,
                     now: datetime | None = None) -> str | None:
    """Why this person cannot vote in this envelope now (None: they can). A reason, always."""
    phase = campaign.phase(now)
    if phase is not Phase.VOTE:
        if phase.index < Phase.VOTE.index:
            return _("The vote has not opened yet (now: %(phase)s).", phase=phase.title)
        return _("The vote is closed.")
    if envelope.campaign_id != campaign.id:
        return _("This envelope belongs to another campaign.")
    reason = person_eligibility(user, campaign)
    if reason:
        return reason
    if envelope.quartier_id is not None and user.quartier_id != envelope.quartier_id:
        return _("Only residents of %(quartier)s vote for its envelope.",
                 quartier=envelope.quartier.name if envelope.quartier else "")
    return None


def envelopes_of(user: User | None, campaign: Campaign) -> list[Envelope]:
    """The envelopes this person is concerned by: the city-wide one and their quartier's."""
    out = [e for e in campaign.envelopes if e.quartier_id is None]
    quartier_id = getattr(user, "quartier_id", None)
    out += [e for e in campaign.envelopes
            if e.quartier_id is not None and e.quartier_id == quartier_id]
    return out


def ballot_options(campaign: Campaign, envelope: Envelope) -> list[Proposal]:
    """The proposals on this envelope's ballot (feasible, answered, cost validated): the
    same list as votable_proposals(campaign)[envelope], read for this envelope only (every
    cast validates against it, so it must not load the whole campaign)."""
    return list(db.session.execute(_options_query(campaign, envelope)).scalars())


def _options_query(campaign: Campaign, envelope: Envelope):  # noqa: ANN202
    area = (Proposal.quartier_id.is_(None) if envelope.quartier_id is None
            else Proposal.quartier_id == envelope.quartier_id)
    return select(Proposal).where(
        Proposal.campaign_id == campaign.id, area,
        Proposal.status.in_([ProposalStatus.FEASIBLE.value, ProposalStatus.SELECTED.value]),
        Proposal.answer_published_at.is_not(None),
        Proposal.validated_cost_cents.is_not(None)).order_by(Proposal.id)


# ---------------------------------------------------------------- the three formats

def validate_choices(campaign: Campaign, envelope: Envelope, choices: dict[int, int],
                     options: list[Any] | None = None) -> None:
    """Refuse a ballot that breaks the campaign's format (forged POSTs included).

    Without ``options``, only the chosen projects are read (with the ballot's conditions),
    so validating costs the same on a ballot of 20 projects or of 2,000; and only the two
    columns the checks use (id and cost), not whole Proposal objects."""
    if options is None:
        ids = [pid for pid in choices if isinstance(pid, int) and 0 < pid < 2**31]
        options = list(db.session.execute(
            _options_query(campaign, envelope).where(Proposal.id.in_(ids))
            .with_only_columns(Proposal.id, Proposal.validated_cost_cents))) if ids else []
    by_id = {p.id: p for p in options}
    if not choices:
        return _refuse(_("Choose at least one project."))
    if any(pid not in by_id for pid in choices):
        return _refuse(_("This ballot names a project that is not on this envelope's "
                         "ballot."))
    fmt = campaign.ballot_format
    if fmt in ("approval", "knapsack") and any(v != 1 for v in choices.values()):
        return _refuse(_("Points can only be given on a cumulative ballot."))
    if fmt == "approval":
        if campaign.max_choices and len(choices) > campaign.max_choices:
            return _refuse(_("Choose at most %(n)d projects (you chose %(k)d).",
                             n=campaign.max_choices, k=len(choices)))
    elif fmt == "knapsack":
        total = sum(by_id[pid].validated_cost_cents or 0 for pid in choices)
        if total > envelope.amount_cents:
            return _refuse(_("Your projects cost %(total)s, more than the envelope of "
                             "%(budget)s: remove some.", total=euros(total),
                             budget=euros(envelope.amount_cents)))
    elif fmt == "cumulative":
        points = sum(choices.values())
        if campaign.points_total and points > campaign.points_total:
            return _refuse(_("You gave %(k)d points; you have %(n)d to share out.",
                             k=points, n=campaign.points_total))
        if campaign.min_projects and len(choices) < campaign.min_projects:
            return _refuse(_("Give points to at least %(n)d projects.",
                             n=campaign.min_projects))
    return None


def _refuse(message: str) -> None:
    raise VoteError(message, "choices")


# ---------------------------------------------------------------- casting

def _check_can_vote(user: User, campaign: Campaign, envelope: Envelope) -> None:
    reason = vote_eligibility(user, campaign, envelope)
    if reason:
        raise VoteError(reason)


def participation_of(user: User, envelope: Envelope) -> VoteParticipation | None:
    """This person's participation in this envelope, if any."""
    return db.session.execute(
        select(VoteParticipation).where(VoteParticipation.envelope_id == envelope.id,
                                        VoteParticipation.user_id == user.id)
    ).scalar_one_or_none()


def cast_ballot(user: User, envelope: Envelope, choices: dict[int, int], *,
                options: list[Proposal] | None = None, receipt: str | None = None) -> str:
    """Record a confirmed online ballot; return the receipt (shown once, never stored).
    See record_ballot."""
    return record_ballot(user, envelope, choices, options=options, receipt=receipt)[0]


def record_ballot(user: User, envelope: Envelope, choices: dict[int, int], *,
                  options: list[Proposal] | None = None, receipt: str | None = None
                  ) -> tuple[str, VoteParticipation]:
    """Record a confirmed online ballot; return the receipt (shown once, never stored) and
    the participation written, as a transient copy (the receipt page shows its time: no
    query to read it back).

    ``receipt`` lets the view use the one derived from its confirm form's token
    (confirmation_receipt), so that a replayed confirmation shows the same code.

    The participation and the ballot are written together inside a savepoint: if the
    database's unique constraint finds a participation already there (double click,
    replay, another tab, a paper vote), nothing is written and AlreadyVoted is raised.
    """
    campaign = envelope.campaign
    _check_can_vote(user, campaign, envelope)
    validate_choices(campaign, envelope, choices, options)
    receipt = normalise_receipt(receipt or "") or new_receipt()
    row = {"campaign_id": campaign.id, "envelope_id": envelope.id, "user_id": user.id,
           "channel": "online", "at": utcnow(), "receipt_check": receipt_check(user.id, receipt)}
    try:
        with db.session.begin_nested():
            # Plain INSERTs, not session.add(): the unit of work's flush of two new objects
            # was a tenth of a confirmation's CPU, for rows nothing reads back.
            db.session.execute(insert(VoteParticipation.__table__).values(row))
            db.session.execute(insert(Ballot.__table__).values(
                lookup=ballot_lookup(receipt), envelope_id=envelope.id,
                choices=format_choices(choices), source="online"))
            db.session.execute(delete(BallotDraft).where(
                BallotDraft.user_id == user.id, BallotDraft.envelope_id == envelope.id))
    except IntegrityError as exc:
        raise AlreadyVoted(_("Your vote in this envelope is already recorded. To change "
                             "it, use your receipt.")) from exc
    return receipt, VoteParticipation(**row)  # what was written (not in the session)


def _proven_participation(user: User, envelope: Envelope,
                          receipt: str) -> tuple[VoteParticipation, str]:
    """The voter's online participation and their normalised receipt code, once the
    receipt is proven to be the one of their current ballot (compared in constant time)."""
    code = normalise_receipt(receipt)
    if code is None:
        raise VoteError(_("This is not a receipt code: it has 26 letters and digits."),
                        "receipt")
    participation = participation_of(user, envelope)
    if participation is None:
        raise VoteError(_("You have not voted in this envelope yet."))
    if participation.channel != "online" or participation.receipt_check is None:
        raise VoteError(_("You voted on paper: a paper ballot cannot be changed."))
    if not hmac.compare_digest(participation.receipt_check, receipt_check(user.id, code)):
        raise VoteError(_("This receipt is not the one of your current ballot."), "receipt")
    return participation, code


def change_ballot(user: User, envelope: Envelope, receipt: str,
                  choices: dict[int, int], *, options: list[Proposal] | None = None,
                  next_receipt: str | None = None) -> str:
    """Replace the voter's ballot, proven by their receipt; return the new receipt.

    The server cannot find the old ballot without the receipt: it checks the receipt
    against the participation, deletes the ballot the receipt points to and stores the
    new one, with compare-and-swap updates so two concurrent changes cannot both win.
    """
    campaign = envelope.campaign
    _check_can_vote(user, campaign, envelope)
    participation, code = _proven_participation(user, envelope, receipt)
    old_check = participation.receipt_check
    validate_choices(campaign, envelope, choices, options)
    new = normalise_receipt(next_receipt or "") or new_receipt()
    if new == code:
        raise VoteError(change_conflict_message())
    try:
        _swap(participation.id, envelope.id, user.id, code, old_check, new, choices)
    except _Conflict as exc:
        raise VoteError(change_conflict_message()) from exc
    db.session.expire(participation)
    return new


def _swap(participation_id: int, envelope_id: int, user_id: int, code: str, old_check: str,
          new: str, choices: dict[int, int]) -> None:
    with db.session.begin_nested():
        swapped = db.session.execute(
            update(VoteParticipation)
            .where(VoteParticipation.id == participation_id,
                   VoteParticipation.receipt_check == old_check)
            .values(receipt_check=receipt_check(user_id, new), changed_at=utcnow())
            .execution_options(synchronize_session=False)).rowcount
        removed = db.session.execute(
            delete(Ballot).where(Ballot.lookup == ballot_lookup(code),
                                 Ballot.envelope_id == envelope_id)
            .execution_options(synchronize_session=False)).rowcount
        if swapped != 1 or removed != 1:
            raise _Conflict
        db.session.add(Ballot(lookup=ballot_lookup(new), envelope_id=envelope_id,
                              choices=format_choices(choices), source="online"))


class _Conflict(Exception):
    """Raised inside the savepoint to roll it back."""


def change_conflict_message() -> str:
    """What a voter reads when another change of the same ballot won the race."""
    return _("Your ballot was changed at the same moment from elsewhere: reload the page.")


# ---------------------------------------------------------------- confirmation tokens

_RECEIPT_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # as civic.voting.ballots

def confirmation_receipt(user: User, envelope: Envelope, token: str) -> str:
    """The receipt a confirmation will carry, derived from the form's one-time token.

    The review page puts a fresh random token in the confirm form (the server keeps no
    copy). Deriving the receipt from it with the app's secret key makes Confirm idempotent
    without storing anything: a double click or a replayed POST computes the same receipt,
    so the voter is shown it again instead of a dead end; someone who reads the token in
    the page cannot compute the receipt without the key.
    """
    from flask import current_app

    key = str(current_app.config["SECRET_KEY"]).encode()
    digest = hmac.new(key, f"civic-confirm\0{user.id}\0{envelope.id}\0{token}".encode(),
                      hashlib.sha256).digest()
    value = int.from_bytes(digest, "big")
    code = "".join(_RECEIPT_ALPHABET[(value >> (5 * i)) & 31] for i in range(26))
    receipt = normalise_receipt(code)
    assert receipt is not None  # 26 characters of the alphabet: always a receipt
    return receipt


def new_confirmation_token() -> str:
    """A one-time token for a confirm form (128 random bits, not stored)."""
    return secrets.token_urlsafe(16)


_UNREAD: Any = object()


def replayed_receipt(user: User, envelope: Envelope, token: str | None, *,
                     participation: VoteParticipation | None = _UNREAD) -> str | None:
    """The receipt of a confirmation already recorded with this token (a double click or a
    replay), or None when the token did not record the voter's current ballot.
    ``participation``: the voter's participation in this envelope, when already read."""
    if not token:
        return None
    if participation is _UNREAD:
        participation = participation_of(user, envelope)
    if participation is None or participation.receipt_check is None:
        return None
    receipt = confirmation_receipt(user, envelope, token)
    if hmac.compare_digest(participation.receipt_check, receipt_check(user.id, receipt)):
        return receipt
    return None


def current_choices(user: User, envelope: Envelope, receipt: str) -> dict[int, int]:
    """The choices of the voter's current ballot, proven by their receipt (to change it)."""
    _, code = _proven_participation(user, envelope, receipt)
    ballot = db.session.get(Ballot, ballot_lookup(code))
    if ballot is None or ballot.envelope_id != envelope.id:
        raise VoteError(change_conflict_message())
    return parse_choices(ballot.choices)


# ---------------------------------------------------------------- drafts

def draft_of(user: User, envelope: Envelope) -> BallotDraft | None:
    """The ballot this person is building in this envelope (not confirmed), if any."""
    return db.session.execute(
        select(BallotDraft).where(BallotDraft.user_id == user.id,
                                  BallotDraft.envelope_id == envelope.id)
    ).scalar_one_or_none()


def draft_choices(draft: BallotDraft | None) -> dict[int, int]:
    """The choices of a draft ({} when there is none or it cannot be read)."""
    if draft is None:
        return {}
    try:
        return parse_choices(draft.choices)
    except MalformedChoices:
        return {}


def save_draft(user: User, envelope: Envelope, choices: dict[int, int], *,
               options: list[Proposal] | None = None) -> BallotDraft:
    """Keep the ballot being built, so the voter can come back and is reminded before the
    close. Only projects on the envelope's ballot are kept; the format's limits are checked
    at review and confirmation (a draft may be over budget while the voter works on it)."""
    campaign = envelope.campaign
    _check_can_vote(user, campaign, envelope)
    if participation_of(user, envelope) is not None:
        raise AlreadyVoted(_("Your vote in this envelope is already recorded. To change "
                             "it, use your receipt."))
    if options is None:
        options = ballot_options(campaign, envelope)
    known = {p.id for p in options}
    if any(pid not in known for pid in choices):
        return _refuse(_("This ballot names a project that is not on this envelope's "
                         "ballot."))
    text = format_choices(choices)
    draft = draft_of(user, envelope)
    if draft is None:
        try:
            with db.session.begin_nested():
                draft = BallotDraft(user_id=user.id, envelope_id=envelope.id, choices=text)
                db.session.add(draft)
        except IntegrityError:  # the same voter saving from two tabs at once
            draft = draft_of(user, envelope)
            if draft is None:
                raise
    draft.choices = text
    draft.updated_at = utcnow()
    # A changed draft may deserve its reminder again only if it never got one: one email.
    db.session.flush()
    return draft


# ---------------------------------------------------------------- what the pages show

@dataclass(frozen=True)
class BallotSummary:
    """A ballot's choices with the totals the review page and the counter show."""

    rows: list[tuple[Proposal, int]]  # (proposal, points; 1 on approval/knapsack ballots)
    ballot_format: str
    total_cents: int  # cost of the chosen projects
    budget_cents: int  # the envelope
    points_used: int
    points_total: int | None
    max_choices: int | None
    min_projects: int | None

    @property
    def count(self) -> int:
        """How many projects are chosen."""
        return len(self.rows)

    @property
    def left_cents(self) -> int:
        """Money of the envelope not used by the chosen projects (may be negative)."""
        return self.budget_cents - self.total_cents

    @property
    def points_left(self) -> int | None:
        """Points still to share out (cumulative ballots)."""
        return None if self.points_total is None else self.points_total - self.points_used


def ballot_summary(campaign: Campaign, envelope: Envelope, choices: dict[int, int],
                   options: list[Proposal] | None = None) -> BallotSummary:
    """The chosen projects (in ballot order) and the totals, for the review page."""
    if options is None:
        options = ballot_options(campaign, envelope)
    rows = [(p, choices[p.id]) for p in options if p.id in choices]
    return BallotSummary(
        rows=rows, ballot_format=campaign.ballot_format,
        total_cents=sum(p.validated_cost_cents or 0 for p, _pts in rows),
        budget_cents=envelope.amount_cents, points_used=sum(v for _p, v in rows),
        points_total=campaign.points_total if campaign.ballot_format == "cumulative" else None,
        max_choices=campaign.max_choices if campaign.ballot_format == "approval" else None,
        min_projects=campaign.min_projects if campaign.ballot_format == "cumulative"
        else None)


# ---------------------------------------------------------------- RGPD export

def _export_vote_data(user: User) -> dict[str, Any]:
    """What the vote holds about a person (RGPD export): their participations (who, when,
    channel) and their unconfirmed drafts. Never a confirmed ballot: nothing links it to
    the person, so it cannot be exported as theirs (see the README's threat model)."""

    def iso(d: Any) -> str | None:
        return d.isoformat() + "Z" if d else None

    participations = db.session.execute(
        select(VoteParticipation).where(VoteParticipation.user_id == user.id)
        .order_by(VoteParticipation.id)).scalars()
    drafts = db.session.execute(
        select(BallotDraft).where(BallotDraft.user_id == user.id)
        .order_by(BallotDraft.id)).scalars()
    return {
        "participations": [
            {"campaign_id": p.campaign_id, "envelope_id": p.envelope_id,
             "quartier": p.envelope.quartier.name if p.envelope.quartier else None,
             "channel": p.channel, "at": iso(p.at), "changed_at": iso(p.changed_at)}
            for p in participations],
        "ballot_drafts": [
            {"campaign_id": d.envelope.campaign_id, "envelope_id": d.envelope_id,
             # {proposal id: points (1 on approval and knapsack ballots)}
             "choices": {str(k): v for k, v in sorted(draft_choices(d).items())},
             "updated_at": iso(d.updated_at), "reminded_at": iso(d.reminded_at)}
            for d in drafts],
    }


EXPORT_SECTIONS["vote"] = _export_vote_data
