"""The voting desk: paper participation, double keying of paper ballots, reconciliation.

Rules (issue 5, "Paper ballots"), and where the database enforces them:

- A desk agent acts only for the campaign their grant is scoped to (``check_desk_scope``;
  the views check it too and answer 403).
- A resident votes once per envelope, online or on paper: a paper participation is a
  ``VoteParticipation`` row like an online one, so the unique constraint on (envelope,
  user) refuses the second one whichever channel came first. It is inserted inside a
  savepoint and the IntegrityError is the refusal (no check-then-insert).
- Every paper sheet is keyed by two different agents (unique (sheet, agent)); only two
  identical entries make a ``Ballot``, created in the same transaction as the sheet's
  move to "matched". Two different entries put the sheet in "mismatch" until a
  coordinator resolves it: they key the sheet again themselves, and their keying must be
  identical to one of the two entries (so a counted ballot was always keyed the same way
  by two people), or they void the sheet; a note is mandatory either way.
- Concurrency: the sheet row is locked (SELECT … FOR UPDATE on PostgreSQL; SQLite
  serialises writers) before its entries are read, and every status change is a
  compare-and-swap on the status, so two agents keying at the same moment cannot make
  two ballots of one sheet.
- When: participation is marked during the vote phase only (the resident is at the desk
  while the vote is open). Sheets may be keyed from the opening of the vote until the
  count of their envelope is published: ballot boxes are opened and keyed at the close,
  and the published results must include every paper ballot, so once a count is
  published the paper list is frozen.

Paper voters get no receipt: the ballot's lookup is the hash of a receipt nobody sees,
and ``PaperSheet.ballot_lookup`` only ties an anonymous numbered sheet to its ballot.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from civic.accounts.models import User
from civic.audit import audit
from civic.budgeting.models import Campaign, Envelope
from civic.budgeting.states import Phase
from civic.extensions import db
from civic.timeutil import utcnow
from civic.voting.ballots import (
    MalformedChoices,
    ballot_lookup,
    format_choices,
    new_receipt,
    parse_choices,
)
from civic.voting.models import (
    Ballot,
    BallotDraft,
    CountRun,
    PaperEntry,
    PaperSheet,
    VoteParticipation,
)
from civic.voting.services import (
    AlreadyVoted,
    VoteError,
    envelopes_of,
    validate_choices,
    vote_eligibility,
)

DESK_ROLE = "desk_agent"
SEARCH_MIN = 3
SEARCH_LIMIT = 20
SHEET_NUMBER_MAX = 20


class DeskError(VoteError):
    """A refusal at the voting desk the agent can act on (message, form field)."""


class NotYourCampaign(DeskError):
    """The agent's grant is not scoped to this campaign (the views answer 403)."""


# ---------------------------------------------------------------- scope and search

def desk_campaign_ids(user: User) -> list[int]:
    """The campaigns this person staffs a voting desk for."""
    return sorted(set(user.scopes(DESK_ROLE)))


def check_desk_scope(agent: User, campaign: Campaign) -> None:
    """Refuse an agent whose desk grant is not for this campaign."""
    if not agent.has_role(DESK_ROLE, campaign.id):
        raise NotYourCampaign(_("Your voting-desk role is for another campaign."))


def find_residents(agent: User, campaign: Campaign, query: str) -> list[User]:
    """Residents whose name contains the query, or whose email is exactly the query.

    The desk sees no more than it needs: an exact email (not a search over addresses),
    and at most SEARCH_LIMIT names.
    """
    check_desk_scope(agent, campaign)
    query = (query or "").strip()
    if len(query) < SEARCH_MIN:
        raise DeskError(_("Type at least %(num)d characters of the name, or the full "
                          "email address.", num=SEARCH_MIN), "q")
    if len(query) > 254:
        raise DeskError(_("This search is too long."), "q")
    escaped = query.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return list(db.session.execute(
        select(User).where(
            User.deleted_at.is_(None),
            or_(func.lower(User.display_name).like(f"%{escaped}%", escape="\\"),
                func.lower(User.email) == query.lower()))
        .order_by(User.display_name, User.id).limit(SEARCH_LIMIT)).scalars())


@dataclass(frozen=True)
class EnvelopeStanding:
    """One envelope for one resident at the desk: can they vote here, and if not, why."""

    envelope: Envelope
    reason: str | None  # None: they may vote on paper now
    participation: VoteParticipation | None


def standing(agent: User, campaign: Campaign, resident: User) -> list[EnvelopeStanding]:
    """The resident's city-wide and quartier envelopes, each with the reason they cannot
    vote there (eligibility, or the participation already recorded)."""
    check_desk_scope(agent, campaign)
    out = []
    for envelope in envelopes_of(resident, campaign):
        participation = db.session.execute(select(VoteParticipation).where(
            VoteParticipation.envelope_id == envelope.id,
            VoteParticipation.user_id == resident.id)).scalar_one_or_none()
        reason = vote_eligibility(resident, campaign, envelope)
        if reason is None and participation is not None:
            reason = _already_message(participation.channel)
        out.append(EnvelopeStanding(envelope, reason, participation))
    return out


def _already_message(channel: str | None) -> str:
    if channel == "online":
        return _("This resident has already voted online in this envelope: they cannot "
                 "vote on paper.")
    if channel == "paper":
        return _("This resident has already voted on paper in this envelope.")
    return _("This resident has already voted in this envelope.")


# ---------------------------------------------------------------- paper participation

def mark_paper_participation(agent: User, campaign: Campaign, resident: User,
                             envelope_ids: list[int]) -> list[Envelope]:
    """Record that the resident takes paper ballots for these envelopes (all or nothing).

    The unique constraint on (envelope, user) is the guarantee: an online vote or an
    earlier paper participation, even one committed a moment ago by another desk, makes
    the insert fail and nothing is written.
    """
    check_desk_scope(agent, campaign)
    if not envelope_ids:
        raise DeskError(_("Choose at least one envelope."), "envelopes")
    concerned = {e.id: e for e in envelopes_of(resident, campaign)}
    chosen = []
    for envelope_id in dict.fromkeys(envelope_ids):
        envelope = concerned.get(envelope_id)
        if envelope is None:
            raise DeskError(_("This resident does not vote in this envelope."), "envelopes")
        reason = vote_eligibility(resident, campaign, envelope)
        if reason:
            raise DeskError(reason, "envelopes")
        chosen.append(envelope)
    current = chosen[0]
    try:
        with db.session.begin_nested():
            for current in chosen:
                db.session.add(VoteParticipation(
                    campaign_id=campaign.id, envelope_id=current.id, user_id=resident.id,
                    channel="paper", recorded_by_id=agent.id, receipt_check=None))
                db.session.flush()
                # A paper voter gets no reminder about an online draft left unconfirmed.
                db.session.execute(delete(BallotDraft).where(
                    BallotDraft.user_id == resident.id,
                    BallotDraft.envelope_id == current.id))
    except IntegrityError as exc:  # all or nothing: the savepoint undid every envelope
        existing = db.session.execute(select(VoteParticipation.channel).where(
            VoteParticipation.envelope_id == current.id,
            VoteParticipation.user_id == resident.id)).scalar_one_or_none()
        raise AlreadyVoted(_already_message(existing), "envelopes") from exc
    audit(agent, "vote.paper_participation", resident,
          f"campaign {campaign.id}, envelopes {','.join(str(e.id) for e in chosen)}")
    db.session.flush()
    return chosen


# ---------------------------------------------------------------- keying

def keying_refusal(campaign: Campaign, envelope: Envelope) -> str | None:
    """Why sheets of this envelope cannot be keyed now (None: they can)."""
    if envelope.campaign_id != campaign.id:
        return _("This envelope belongs to another campaign.")
    if campaign.phase().index < Phase.VOTE.index:
        return _("Paper ballots are keyed once the vote has opened.")
    published = db.session.scalar(select(CountRun.id).where(
        CountRun.envelope_id == envelope.id, CountRun.published_at.is_not(None)).limit(1))
    if published is not None:
        return _("The results of this envelope are published: no more paper ballots can "
                 "be keyed.")
    return None


def clean_sheet_number(text: str) -> str:
    """The sheet number as printed (spaces trimmed, upper case), or a refusal."""
    number = (text or "").strip().upper()
    if not number:
        raise DeskError(_("Type the number printed on the sheet."), "sheet_number")
    if len(number) > SHEET_NUMBER_MAX or not all(c.isalnum() or c in "-/" for c in number):
        raise DeskError(_("A sheet number has at most %(num)d letters, digits, dashes or "
                          "slashes.", num=SHEET_NUMBER_MAX), "sheet_number")
    return number


@dataclass(frozen=True)
class KeyingResult:
    """What one keying did to its sheet."""

    sheet: PaperSheet
    outcome: str  # "first" (waits for a second agent), "matched" or "mismatch"


def key_sheet(agent: User, envelope: Envelope, sheet_number: str,
              choices: dict[int, int]) -> KeyingResult:
    """One agent keys one paper sheet; the second matching entry makes the ballot."""
    campaign = envelope.campaign
    check_desk_scope(agent, campaign)
    refusal = keying_refusal(campaign, envelope)
    if refusal:
        raise DeskError(refusal)
    number = clean_sheet_number(sheet_number)
    validate_choices(campaign, envelope, choices)  # forged or impossible ballots
    text = format_choices(choices)
    sheet = _sheet_locked(envelope, number)
    if sheet.status != "pending":
        raise DeskError(_sheet_closed_message(sheet), "sheet_number")
    if any(e.agent_id == agent.id for e in sheet.entries):
        raise DeskError(_("You have already keyed sheet %(number)s: a second agent must "
                          "key it.", number=number), "sheet_number")
    try:
        with db.session.begin_nested():
            db.session.add(PaperEntry(sheet_id=sheet.id, agent_id=agent.id, choices=text))
            db.session.flush()
    except IntegrityError as exc:  # the same agent, from another tab at the same moment
        raise DeskError(_("You have already keyed sheet %(number)s: a second agent must "
                          "key it.", number=number), "sheet_number") from exc
    db.session.refresh(sheet)
    others = [e for e in sheet.entries if e.agent_id != agent.id]
    outcome = "first"
    if others:
        if all(e.choices == text for e in others):
            _move(sheet, "matched")
            _make_ballot(sheet, text)
            outcome = "matched"
        else:
            _move(sheet, "mismatch")
            outcome = "mismatch"
    audit(agent, f"vote.paper_keyed.{outcome}",
          detail=f"envelope {envelope.id}, sheet {number}")
    db.session.flush()
    return KeyingResult(sheet, outcome)


def _sheet_locked(envelope: Envelope, number: str) -> PaperSheet:
    """The sheet (created on first keying), its row locked until the transaction ends."""
    stmt = select(PaperSheet).where(PaperSheet.envelope_id == envelope.id,
                                    PaperSheet.sheet_number == number)
    if db.session.execute(stmt).scalar_one_or_none() is None:
        try:
            with db.session.begin_nested():
                db.session.add(PaperSheet(envelope_id=envelope.id, sheet_number=number,
                                          status="pending"))
                db.session.flush()
        except IntegrityError:
            pass  # another agent created it at the same moment: use theirs
    return db.session.execute(
        stmt.with_for_update().execution_options(populate_existing=True)).scalar_one()


def _sheet_closed_message(sheet: PaperSheet) -> str:
    if sheet.status == "mismatch":
        return _("Sheet %(number)s was keyed differently by two agents: a coordinator "
                 "reconciles it.", number=sheet.sheet_number)
    if sheet.status == "void":
        return _("Sheet %(number)s was voided.", number=sheet.sheet_number)
    return _("Sheet %(number)s is already counted.", number=sheet.sheet_number)


class _Conflict(Exception):
    """Another transaction changed the sheet's status first."""


def _move(sheet: PaperSheet, to: str, **values: object) -> None:
    """Compare-and-swap the sheet's status: only one concurrent change can win."""
    done = db.session.execute(
        update(PaperSheet).where(PaperSheet.id == sheet.id,
                                 PaperSheet.status == sheet.status)
        .values(status=to, **values).execution_options(synchronize_session=False)).rowcount
    if done != 1:
        raise DeskError(_("This sheet was changed at the same moment by someone else: "
                          "reload the page."))
    db.session.expire(sheet)


def _make_ballot(sheet: PaperSheet, text: str) -> Ballot:
    lookup = ballot_lookup(new_receipt())  # the receipt is never shown: paper is anonymous
    ballot = Ballot(lookup=lookup, envelope_id=sheet.envelope_id, choices=text,
                    source="paper")
    db.session.add(ballot)
    db.session.execute(update(PaperSheet).where(PaperSheet.id == sheet.id)
                       .values(ballot_lookup=lookup)
                       .execution_options(synchronize_session=False))
    db.session.expire(sheet)
    return ballot


# ---------------------------------------------------------------- reconciliation

def sheets_to_reconcile(campaign: Campaign) -> list[PaperSheet]:
    """The campaign's sheets whose two entries differ."""
    return list(db.session.execute(
        select(PaperSheet).join(Envelope).where(Envelope.campaign_id == campaign.id,
                                                PaperSheet.status == "mismatch")
        .order_by(PaperSheet.envelope_id, PaperSheet.sheet_number)).scalars())


def sheet_counts(campaign: Campaign) -> dict[str, int]:
    """How many sheets of the campaign are in each status."""
    rows = db.session.execute(
        select(PaperSheet.status, func.count()).join(Envelope)
        .where(Envelope.campaign_id == campaign.id).group_by(PaperSheet.status)).all()
    return {status: n for status, n in rows}


def entry_choices(entry: PaperEntry) -> dict[int, int]:
    """An entry's choices as a dict (empty if the stored text is unreadable)."""
    try:
        return parse_choices(entry.choices)
    except MalformedChoices:
        return {}


def resolve_sheet(coordinator: User, sheet: PaperSheet, choices: dict[int, int],
                  note: str) -> Ballot:
    """A coordinator keys a mismatched sheet again; it counts if it equals one entry."""
    envelope = sheet.envelope
    campaign = envelope.campaign
    note = _check_note(note)
    refusal = keying_refusal(campaign, envelope)
    if refusal:
        raise DeskError(refusal)
    if sheet.status != "mismatch":
        raise DeskError(_("Only a sheet keyed differently by two agents is reconciled."))
    validate_choices(campaign, envelope, choices)
    text = format_choices(choices)
    if text not in {e.choices for e in sheet.entries}:
        raise DeskError(_("Your keying is identical to neither entry: check the sheet "
                          "again, or void it."), "choices")
    _move(sheet, "resolved", resolved_by_id=coordinator.id, resolved_at=utcnow(),
          note=note)
    ballot = _make_ballot(sheet, text)
    audit(coordinator, "vote.paper_resolved",
          detail=f"envelope {envelope.id}, sheet {sheet.sheet_number}: {note}"[:2000])
    db.session.flush()
    return ballot


def void_sheet(coordinator: User, sheet: PaperSheet, note: str) -> None:
    """A coordinator voids a mismatched sheet (spoilt, unreadable…): it never counts."""
    note = _check_note(note)
    refusal = keying_refusal(sheet.envelope.campaign, sheet.envelope)
    if refusal:
        raise DeskError(refusal)
    if sheet.status != "mismatch":
        raise DeskError(_("Only a sheet keyed differently by two agents is reconciled."))
    _move(sheet, "void", resolved_by_id=coordinator.id, resolved_at=utcnow(), note=note)
    audit(coordinator, "vote.paper_voided",
          detail=f"envelope {sheet.envelope_id}, sheet {sheet.sheet_number}: {note}"[:2000])
    db.session.flush()


def _check_note(note: str) -> str:
    note = (note or "").strip()
    if len(note) < 5:
        raise DeskError(_("Explain your decision in a note (at least 5 characters)."),
                        "note")
    if len(note) > 2000:
        raise DeskError(_("Keep the note under %(num)d characters.", num=2000), "note")
    return note
