"""Bienveilleurs services: the network, the directory, referrals, the conciergerie.

Services validate, change state and flush; the view commits once. Every read or change of
a referral or conciergerie request goes through ``open_referral``/``open_job`` (which check
who may see it and write the access log) — views never load them directly.
"""

from __future__ import annotations

import json
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from flask import current_app, url_for
from flask_babel import gettext as _
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from civic.accounts import services as accounts
from civic.accounts.models import RoleGrant, User
from civic.accounts.services import AccountError
from civic.backup import POST_RESTORE_HOOKS
from civic.bienveilleurs import crypto
from civic.bienveilleurs.models import (
    AccessLogEntry,
    Interlocutor,
    JobOffer,
    JobRequest,
    JobTransition,
    NetworkMember,
    Referral,
    ReferralTransition,
    StatisticsRelease,
)
from civic.bienveilleurs.states import (
    AUTHOR,
    BARRIERS,
    CONSENTS,
    COORDINATOR,
    INTERLOCUTOR,
    INTERLOCUTOR_KINDS,
    JOB_OUTCOMES,
    JOB_TRANSITIONS,
    MEMBER_TRANSITIONS,
    MEMBER_TYPES,
    NEEDS,
    OPENERS,
    POSITION_KINDS,
    REFERRAL_OPEN,
    REFERRAL_OUTCOMES,
    REFERRAL_TRANSITIONS,
    URGENCIES,
    Transition,
)
from civic.extensions import db
from civic.mail import send_email
from civic.territory.models import Quartier
from civic.timeutil import utcnow

CHARTER_VERSION = "2026-1"
SUPPRESSION_THRESHOLD = 5  # counts below this are never published (statistical secrecy)
# Published network counts are rounded to a multiple of this, so that two publications of
# overlapping periods (the current year, month after month) reveal no small difference.
ROUNDING_BASE = 5


class BienveilleursError(AccountError):
    """A refusal the user can act on (same shape as account errors, for attach_error)."""


class AccessRefused(Exception):
    """The user has no relation to this referral or request (the attempt is logged)."""


# ---------------------------------------------------------------- helpers

def _codes(values: list[str] | None, allowed: dict, field_name: str) -> str:
    values = [v for v in (values or []) if v]
    if any(v not in allowed for v in values):
        raise BienveilleursError(_("Choose options from the list."), field_name)
    return "," + ",".join(sorted(set(values))) + ","


def _quartier(quartier_id: int | None, field_name: str = "quartier_id") -> Quartier:
    q = db.session.get(Quartier, quartier_id) if quartier_id is not None else None
    if q is None:
        raise BienveilleursError(_("Choose a quartier from the list."), field_name)
    return q


def _choice(value: str | None, allowed: dict, field_name: str) -> str:
    if value not in allowed:
        raise BienveilleursError(_("Choose an option from the list."), field_name)
    return value  # type: ignore[return-value]


def _text(value: str | None, limit: int) -> str:
    return (value or "").strip()[:limit]


def _lock(row: Any) -> None:
    """Reload a row under a write lock (SELECT … FOR UPDATE on PostgreSQL), so that two
    concurrent decisions on it are serialised."""
    db.session.refresh(row, with_for_update=True)


def _still_coordinator(user: User | None) -> bool:
    """A coordinator who left (role withdrawn, account deleted) no longer blocks a
    referral: another coordinator may take it over."""
    return user is not None and user.deleted_at is None and user.has_role("coordinator")


def coordinators() -> list[User]:
    """Active accounts holding the coordinator role."""
    return list(db.session.execute(
        select(User).join(RoleGrant, RoleGrant.user_id == User.id)
        .where(RoleGrant.role == "coordinator", User.deleted_at.is_(None))
    ).scalars())


def interlocutor_staff(interlocutor_id: int) -> list[User]:
    """Active accounts holding the interlocutor role for this organisation."""
    return list(db.session.execute(
        select(User).join(RoleGrant, RoleGrant.user_id == User.id)
        .where(RoleGrant.role == "interlocutor", RoleGrant.scope_id == interlocutor_id,
               User.deleted_at.is_(None))
    ).scalars())


def _notify(users: list[User], extra: list[str], subject: str, body: str) -> None:
    """Email people in charge. Bodies never carry personal data about the person helped:
    only a reference number and a link that requires signing in (and is access-checked)."""
    sent: set[str] = set()
    for address in [u.email for u in users if u.email] + [e for e in extra if e]:
        if address not in sent:
            sent.add(address)
            send_email(address, subject, body)


def log_access(kind: str, subject_id: int, actor: User | None, action: str,
               detail: str = "") -> AccessLogEntry:
    """Append to the access log (never personal data in ``detail``)."""
    entry = AccessLogEntry(subject_kind=kind, subject_id=subject_id,
                           actor_id=getattr(actor, "id", None), action=action,
                           detail=detail[:200])
    db.session.add(entry)
    return entry


def access_log(kind: str, subject_id: int) -> list[AccessLogEntry]:
    """The access log of one referral or request, oldest first."""
    return list(db.session.execute(
        select(AccessLogEntry).where(AccessLogEntry.subject_kind == kind,
                                     AccessLogEntry.subject_id == subject_id)
        .order_by(AccessLogEntry.id)
    ).scalars())


# ---------------------------------------------------------------- the network

def member_of(user: User) -> NetworkMember | None:
    """The user's application or membership, if any."""
    return db.session.execute(
        select(NetworkMember).where(NetworkMember.user_id == user.id)
    ).scalar_one_or_none()


def apply_to_network(
    user: User, *, member_type: str | None, quartier_id: int | None, languages: str,
    availability: str, topics: list[str], charter_accepted: bool,
) -> NetworkMember:
    """Apply to become a bienveilleur; the charter must be signed (checked box)."""
    if member_of(user) is not None:
        raise BienveilleursError(_("You have already applied to the network."))
    _choice(member_type, MEMBER_TYPES, "member_type")
    _quartier(quartier_id)
    topic_codes = _codes(topics, NEEDS, "topics")
    if not charter_accepted:
        raise BienveilleursError(
            _("To join the network you must sign its charter: tick the box."), "charter")
    member = NetworkMember(
        user_id=user.id, member_type=member_type, quartier_id=quartier_id,
        languages=_text(languages, 200), availability=_text(availability, 300),
        topics=topic_codes, charter_version=CHARTER_VERSION, charter_signed_at=utcnow(),
    )
    db.session.add(member)
    db.session.flush()
    _notify(coordinators(), [], _("New application to the bienveilleurs network"),
            _("A new application to the bienveilleurs network is waiting for validation:\n"
              "%(link)s", link=url_for("bienveilleurs.members", _external=True)))
    return member


def decide_member(actor: User, member: NetworkMember, action: str) -> None:
    """Validate, refuse, suspend or reinstate a member (role granted/withdrawn, audited)."""
    target = next((to for (frm, to), act in MEMBER_TRANSITIONS.items()
                   if frm == member.status and act == action), None)
    if target is None:
        raise BienveilleursError(_("This action is not possible in the member's current "
                                   "status."))
    user = member.user
    if target == "active":
        if user.deleted_at is not None:
            raise BienveilleursError(_("This account has been deleted."))
        if not user.has_role("bienveilleur"):
            accounts.grant_role(actor, user, "bienveilleur")
        if user.email:
            send_email(user.email, _("Welcome to the bienveilleurs network"),
                       _("Hello %(name)s,\n\nYour membership of the bienveilleurs network has "
                         "been validated. Your space and the network's short guide:\n"
                         "%(link)s", name=user.display_name,
                         link=url_for("bienveilleurs.space", _external=True)))
    elif target == "suspended":
        for grant in [g for g in user.grants if g.role == "bienveilleur"]:
            accounts.revoke_role(actor, grant)
    member.status = target
    member.decided_at = utcnow()
    member.decided_by_id = actor.id
    db.session.flush()


# ---------------------------------------------------------------- directory

def save_interlocutor(
    actor: User | None, interlocutor: Interlocutor | None, *, name: str, kind: str | None,
    topics: list[str], quartier_ids: list[int], opening_hours: str, languages: str,
    phone: str, email: str, address: str, how_to_refer: str, is_public: bool,
    is_active: bool = True,
) -> Interlocutor:
    """Create or edit an organisation of the directory."""
    name = _text(name, 160)
    if not name:
        raise BienveilleursError(_("Enter a name."), "name")
    other = db.session.execute(
        select(Interlocutor).where(Interlocutor.name == name)).scalar_one_or_none()
    if other is not None and other is not interlocutor:
        raise BienveilleursError(_("This value is already used."), "name")
    _choice(kind, INTERLOCUTOR_KINDS, "kind")
    topic_codes = _codes(topics, NEEDS, "topics")
    quartiers = []
    for qid in quartier_ids or []:
        quartiers.append(_quartier(qid, "quartier_ids"))
    if interlocutor is None:
        interlocutor = Interlocutor(name=name)
        db.session.add(interlocutor)
    interlocutor.name = name
    interlocutor.kind = kind  # type: ignore[assignment]
    interlocutor.topics = topic_codes
    interlocutor.quartiers = quartiers
    interlocutor.opening_hours = _text(opening_hours, 2000)
    interlocutor.languages = _text(languages, 200)
    interlocutor.phone = _text(phone, 40)
    interlocutor.email = _text(email, 254)
    interlocutor.address = _text(address, 300)
    interlocutor.how_to_refer = _text(how_to_refer, 2000)
    interlocutor.is_public = bool(is_public)
    interlocutor.is_active = bool(is_active)
    db.session.flush()
    from civic.audit import audit

    audit(actor, "interlocutor.saved", None, name)
    return interlocutor


def search_directory(*, need: str | None = None, quartier_id: int | None = None,
                     include_private: bool = False) -> list[Interlocutor]:
    """Active organisations matching a need and serving a quartier (or the whole territory)."""
    stmt = select(Interlocutor).where(Interlocutor.is_active.is_(True))
    if not include_private:
        stmt = stmt.where(Interlocutor.is_public.is_(True))
    if need in NEEDS:
        stmt = stmt.where(Interlocutor.topics.contains(f",{need},"))
    rows = db.session.execute(stmt.order_by(Interlocutor.name)).scalars().all()
    if quartier_id is not None:
        rows = [i for i in rows if not i.quartiers or any(q.id == quartier_id
                                                           for q in i.quartiers)]
    return list(rows)


def active_interlocutors() -> list[Interlocutor]:
    """Every active organisation (public or not), for orienting and offering."""
    return list(db.session.execute(
        select(Interlocutor).where(Interlocutor.is_active.is_(True))
        .order_by(Interlocutor.name)).scalars())


# ---------------------------------------------------------------- referrals

def relations(user: User, subject: Referral | JobRequest) -> set[str]:
    """How the user relates to a referral or request: author, coordinator, interlocutor."""
    rel: set[str] = set()
    if not getattr(user, "is_authenticated", False):
        return rel
    if subject.author_id == user.id:
        # A suspended bienveilleur no longer follows the referrals they made as one.
        if not (isinstance(subject, Referral) and subject.origin == "bienveilleur"
                and not user.has_role("bienveilleur")):
            rel.add(AUTHOR)
    if subject.coordinator_id == user.id and user.has_role("coordinator"):
        rel.add(COORDINATOR)
    if subject.interlocutor_id and user.has_role("interlocutor", subject.interlocutor_id):
        rel.add(INTERLOCUTOR)
    return rel


def _refuse(kind: str, subject_id: int, user: User, what: str) -> AccessRefused:
    log_access(kind, subject_id, user, "refused", what)
    # The application log gets ids only: nothing about the person concerned.
    current_app.logger.warning("%s %s: %s refused to user %s", kind, subject_id, what,
                               getattr(user, "id", None))
    return AccessRefused()


def open_referral(user: User, referral_id: int, purpose: str = "read") -> tuple[Referral,
                                                                                set[str]]:
    """The referral and the user's relations to it; logs the access, or the refusal.

    Raises LookupError when it does not exist, AccessRefused (logged) when the user has no
    relation to it. ``purpose`` "read" writes a read entry; other purposes are logged by the
    change they lead to.
    """
    referral = db.session.get(Referral, referral_id)
    if referral is None:
        raise LookupError(referral_id)
    rel = relations(user, referral)
    if not rel:
        raise _refuse("referral", referral_id, user, purpose)
    if purpose == "read":
        log_access("referral", referral_id, user, "read")
    return referral, rel


@dataclass(frozen=True)
class PersonalData:
    """Decrypted personal fields, for display to someone entitled to them."""

    name: str | None
    contact: str | None
    note: str | None


def personal_data(subject: Referral | JobRequest) -> PersonalData:
    """Decrypt the personal fields (call only after open_referral/open_job)."""
    return PersonalData(crypto.decrypt(subject.person_name_enc),
                        crypto.decrypt(subject.contact_enc), crypto.decrypt(subject.note_enc))


def _person(person_name: str, contact: str) -> tuple[str, str]:
    """The person's name and contact, trimmed and checked (both are required)."""
    person_name, contact = _text(person_name, 120), _text(contact, 300)
    if not person_name:
        raise BienveilleursError(_("Enter how to call the person (a first name is enough)."),
                                 "person_name")
    if len(contact) < 3:
        raise BienveilleursError(_("Enter how to reach the person (phone, address…)."),
                                 "contact")
    return person_name, contact


def open_to_correct(user: User, kind: str, subject_id: int,
                    reading: bool) -> Referral | JobRequest:
    """The referral ("referral") or request ("job") whose person's details the user may
    correct: anyone in charge of it, not a professional only offered a request. Logs a read
    when `reading` (the form shows the details); a refusal is logged, as everywhere."""
    subject: Referral | JobRequest
    if kind == "referral":
        subject, _rel = open_referral(user, subject_id, "correct")
    else:
        subject, rel = open_job(user, subject_id, "correct")
        if not rel - {"offered"}:
            raise _refuse("job", subject_id, user, "correct")
    if reading and subject.purged_at is None:
        log_access(kind, subject_id, user, "read")
    return subject


def correct_personal_data(user: User, subject: Referral | JobRequest, *, person_name: str,
                          contact: str, note: str = "") -> None:
    """Correct the person's details (their right to rectification, and the way help reaches
    them): for the people in charge of the file, who open it first (open_referral or
    open_job). The old values are replaced, not kept; the access log records the
    correction, never what was changed."""
    if subject.purged_at is not None:
        raise BienveilleursError(_("These personal details were erased at the end of the "
                                   "retention period: there is nothing left to correct."))
    person_name, contact = _person(person_name, contact)
    subject.person_name_enc = crypto.encrypt(person_name)
    subject.contact_enc = crypto.encrypt(contact)
    subject.note_enc = crypto.encrypt(_text(note, 2000))
    kind = "referral" if isinstance(subject, Referral) else "job"
    log_access(kind, subject.id, user, "corrected")
    db.session.flush()


def referral_origin(user: User) -> str:
    """Who records: a bienveilleur, an agent or coordinator at a counter, a partner
    organisation's staff, or the person themselves."""
    if user.has_role("bienveilleur"):
        return "bienveilleur"
    if user.has_role("agent") or user.has_role("coordinator"):
        return "counter"
    if user.has_role("interlocutor"):
        return "partner"
    return "self"


def record_referral(
    author: User, *, quartier_id: int | None, need: str | None, urgency: str | None,
    consent: str | None, person_name: str, contact: str, note: str = "",
) -> Referral:
    """Record that someone needs contact: only what the follow-up needs, encrypted."""
    origin = referral_origin(author)
    _quartier(quartier_id)
    _choice(need, NEEDS, "need")
    _choice(urgency or "normal", URGENCIES, "urgency")
    if origin == "self":
        consent = "given"  # asking for oneself is consent to be contacted
    elif consent not in CONSENTS:
        raise BienveilleursError(
            _("Say whether the person agreed to be contacted, or that it is still to be "
              "asked."), "consent")
    person_name, contact = _person(person_name, contact)
    now = utcnow()
    referral = Referral(
        author_id=author.id, origin=origin, quartier_id=quartier_id, need=need,
        urgency=urgency or "normal", consent=consent, status="signale",
        status_changed_at=now, created_at=now,
        coordinator_id=author.id if author.has_role("coordinator") else None,
        person_name_enc=crypto.encrypt(person_name), contact_enc=crypto.encrypt(contact),
        note_enc=crypto.encrypt(_text(note, 2000)),
    )
    db.session.add(referral)
    db.session.flush()
    db.session.add(ReferralTransition(referral_id=referral.id, at=now, actor_id=author.id,
                                      from_status=None, to_status="signale"))
    log_access("referral", referral.id, author, "created")
    if referral.coordinator_id is None:
        _notify(coordinators(), [], _("New referral #%(id)d", id=referral.id),
                _("A new referral (#%(id)d) is waiting in the coordination queue:\n%(link)s",
                  id=referral.id, link=url_for("bienveilleurs.coordination", _external=True)))
    db.session.flush()
    return referral


def unassigned_referrals() -> list[Referral]:
    """Referrals waiting for a coordinator (listed without any personal field)."""
    return list(db.session.execute(
        select(Referral).where(Referral.coordinator_id.is_(None),
                               Referral.status.in_(REFERRAL_OPEN))
        .order_by(Referral.urgency.desc(), Referral.created_at)
    ).scalars())


def take_referral(coordinator: User, referral: Referral) -> None:
    """A coordinator takes charge of an unassigned referral (and only then sees it); one
    followed by another (active) coordinator is refused and the attempt logged."""
    if not coordinator.has_role("coordinator"):
        raise _refuse("referral", referral.id, coordinator, "take")
    _lock(referral)
    if referral.coordinator_id not in (None, coordinator.id) and _still_coordinator(
            referral.coordinator):
        # Taking a referral someone else follows would open its personal data: refused
        # and logged like any other attempt to read it.
        raise _refuse("referral", referral.id, coordinator, "take")
    referral.coordinator_id = coordinator.id
    log_access("referral", referral.id, coordinator, "assigned")
    db.session.flush()


def visible_referrals(user: User) -> list[Referral]:
    """Referrals the user is entitled to: authored, followed as coordinator, handed to
    their organisation."""
    conds = [Referral.author_id == user.id]
    if user.has_role("coordinator"):
        conds.append(Referral.coordinator_id == user.id)
    orgs = user.scopes("interlocutor")
    if orgs:
        conds.append(Referral.interlocutor_id.in_(orgs))
    rows = db.session.execute(
        select(Referral).where(or_(*conds)).order_by(Referral.created_at.desc()).limit(500)
    ).scalars()
    return [r for r in rows if relations(user, r)]


def allowed_referral_transitions(user: User, referral: Referral,
                                 rel: set[str] | None = None) -> list[tuple[str, Transition]]:
    """The steps this user may take now (drives the buttons; the service checks again)."""
    rel = relations(user, referral) if rel is None else rel
    return [(to, t) for (frm, to), t in REFERRAL_TRANSITIONS.items()
            if frm == referral.status and t.actors & rel and referral.purged_at is None]


def transition_referral(
    user: User, referral: Referral, to_status: str, *, interlocutor_id: int | None = None,
    outcome: str | None = None, consent_given: bool = False,
) -> ReferralTransition:
    """Move a referral along one edge of the transition table (dated, attributed, logged)."""
    rel = relations(user, referral)
    if not rel:
        raise _refuse("referral", referral.id, user, f"transition to {to_status}"[:60])
    transition = REFERRAL_TRANSITIONS.get((referral.status, to_status))
    if transition is None or referral.purged_at is not None:
        raise BienveilleursError(_("This step is not possible from the referral's current "
                                   "status."))
    if not transition.actors & rel:
        raise _refuse("referral", referral.id, user, f"transition to {to_status}"[:60])
    if consent_given and to_status == "contacte":
        referral.consent = "given"
        log_access("referral", referral.id, user, "consent", "given")
    interlocutor = None
    if transition.needs_interlocutor:
        interlocutor = db.session.get(Interlocutor, interlocutor_id) \
            if interlocutor_id is not None else None
        if interlocutor is None or not interlocutor.is_active:
            raise BienveilleursError(_("Choose an interlocutor from the list."),
                                     "interlocutor_id")
    if transition.needs_consent and referral.consent != "given":
        raise BienveilleursError(
            _("The person's consent is needed before their details are passed on to an "
              "interlocutor: record it when you contact them."), "interlocutor_id")
    if transition.needs_outcome:
        _choice(outcome, REFERRAL_OUTCOMES, "outcome")
    else:
        outcome = None
    now = utcnow()
    step = ReferralTransition(referral_id=referral.id, at=now, actor_id=user.id,
                              from_status=referral.status, to_status=to_status,
                              interlocutor_id=interlocutor.id if interlocutor else None,
                              outcome=outcome)
    db.session.add(step)
    referral.status = to_status
    referral.status_changed_at = now
    if to_status == "contacte" and referral.contacted_at is None:
        referral.contacted_at = now
    if interlocutor is not None:
        referral.interlocutor_id = interlocutor.id
    elif to_status == "contacte":
        referral.interlocutor_id = None  # handed back: the organisation loses access
    if to_status == "clos":
        referral.closed_at = now
        referral.outcome = outcome
    log_access("referral", referral.id, user, "transition", to_status)
    if interlocutor is not None:
        _notify(interlocutor_staff(interlocutor.id), [interlocutor.email],
                _("Referral #%(id)d handed to %(org)s", id=referral.id, org=interlocutor.name),
                _("The bienveilleurs network has handed a referral (#%(id)d) to your "
                  "organisation. Sign in to see it:\n%(link)s", id=referral.id,
                  link=url_for("bienveilleurs.referral", referral_id=referral.id,
                               _external=True)))
    db.session.flush()
    return step


def send_reminders(now: datetime | None = None) -> int:
    """Remind the people in charge of referrals stuck in a state (once per state visit)."""
    now = now or utcnow()
    delays = current_app.config["CIVIC_REFERRAL_REMIND_AFTER_DAYS"]
    sent = 0
    rows = db.session.execute(
        select(Referral).where(Referral.status.in_(REFERRAL_OPEN))).scalars().all()
    for r in rows:
        days = delays.get(r.status)
        if days is None or r.status_changed_at > now - timedelta(days=days):
            continue
        if _reminded_in_this_status(r):
            continue
        people = _in_charge(r)
        if r.status in ("oriente", "pris_en_charge") and r.interlocutor_id:
            people.extend(interlocutor_staff(r.interlocutor_id))
        _remind("referral", r, now, people, _("Referral #%(id)d is waiting", id=r.id),
                _("Referral #%(id)d has been in the same state for more than %(days)d days. "
                  "Sign in to follow it up:\n%(link)s", id=r.id, days=days,
                  link=url_for("bienveilleurs.referral", referral_id=r.id, _external=True)))
        sent += 1
    db.session.flush()
    return sent


def _reminded_in_this_status(subject: Referral | JobRequest) -> bool:
    """Reminders are sent once per status visit: idempotent when run again."""
    return subject.reminded_at is not None and subject.reminded_at >= subject.status_changed_at


def _in_charge(subject: Referral | JobRequest) -> list[User]:
    """The coordinator following it, or every coordinator when nobody does yet."""
    return [subject.coordinator] if subject.coordinator is not None else coordinators()


def _remind(kind: str, subject: Referral | JobRequest, now: datetime, people: list[User],
            title: str, body: str) -> None:
    """Email a reminder (a number and a link, never personal data) and record it."""
    _notify(people, [], title, body)
    subject.reminded_at = now
    log_access(kind, subject.id, None, "reminder", subject.status)


def purge_closed(now: datetime | None = None) -> int:
    """Erase the personal fields of referrals and requests closed longer than the retention
    period; statuses, dates and outcomes stay for statistics. Safe to run daily."""
    now = now or utcnow()
    limit = now - timedelta(days=current_app.config["CIVIC_REFERRAL_RETENTION_DAYS"])
    purged = 0
    for model, kind, closed in ((Referral, "referral", "clos"), (JobRequest, "job", "close")):
        rows = db.session.execute(
            select(model).where(model.status == closed, model.purged_at.is_(None),
                                model.closed_at <= limit)).scalars().all()
        for row in rows:
            row.person_name_enc = row.contact_enc = row.note_enc = None
            row.purged_at = now
            log_access(kind, row.id, None, "purged")
            purged += 1
    db.session.flush()
    return purged


def rotate_keys() -> int:
    """Re-encrypt every personal field with the newest key (after adding a key)."""
    count = 0
    for model in (Referral, JobRequest):
        for row in db.session.execute(select(model).where(model.purged_at.is_(None))).scalars():
            row.person_name_enc = crypto.rotate(row.person_name_enc)
            row.contact_enc = crypto.rotate(row.contact_enc)
            row.note_enc = crypto.rotate(row.note_enc)
            count += 1
    db.session.flush()
    return count


# ---------------------------------------------------------------- conciergerie de l'emploi

def open_job_request(
    author: User, *, opener: str | None, quartier_id: int | None, barrier: str | None,
    position_kind: str | None, start_date: date | None, consent_given: bool,
    person_name: str, contact: str, note: str = "", today: date | None = None,
) -> JobRequest:
    """Open a conciergerie request; the start date of the job is its deadline."""
    today = today or utcnow().date()
    _choice(opener, OPENERS, "opener")
    _quartier(quartier_id)
    _choice(barrier, BARRIERS, "barrier")
    _choice(position_kind or "job", POSITION_KINDS, "position_kind")
    if start_date is None or start_date < today:
        raise BienveilleursError(_("Enter the start date of the job or training (today or "
                                   "later)."), "start_date")
    if not consent_given:
        raise BienveilleursError(
            _("The request is passed on to professionals: the person's consent is required."),
            "consent")
    person_name, contact = _person(person_name, contact)
    orgs = author.scopes("interlocutor")
    now = utcnow()
    jr = JobRequest(
        author_id=author.id, opener=opener, opener_interlocutor_id=orgs[0] if orgs else None,
        quartier_id=quartier_id, barrier=barrier, position_kind=position_kind or "job",
        start_date=start_date, consent="given", status="ouverte", status_changed_at=now,
        created_at=now, coordinator_id=author.id if author.has_role("coordinator") else None,
        person_name_enc=crypto.encrypt(person_name), contact_enc=crypto.encrypt(contact),
        note_enc=crypto.encrypt(_text(note, 2000)),
    )
    db.session.add(jr)
    db.session.flush()
    db.session.add(JobTransition(request_id=jr.id, at=now, actor_id=author.id,
                                 from_status=None, to_status="ouverte"))
    log_access("job", jr.id, author, "created")
    db.session.flush()
    return jr


def job_relations(user: User, jr: JobRequest) -> set[str]:
    """Relations to a request; "offered" means a pending offer to the user's organisation
    (which shows the need, never who the person is, until the offer is accepted)."""
    rel = relations(user, jr)
    orgs = set(user.scopes("interlocutor")) if getattr(user, "is_authenticated", False) \
        else set()
    if any(o.interlocutor_id in orgs and o.answer == "pending" for o in jr.offers):
        rel.add("offered")
    return rel


def open_job(user: User, job_id: int, purpose: str = "read") -> tuple[JobRequest, set[str]]:
    """The request and the user's relations; logs the access, or the refusal."""
    jr = db.session.get(JobRequest, job_id)
    if jr is None:
        raise LookupError(job_id)
    rel = job_relations(user, jr)
    if not rel:
        raise _refuse("job", job_id, user, purpose)
    if purpose == "read":
        log_access("job", job_id, user, "read" if rel - {"offered"} else "read_summary")
    return jr, rel


def take_job_request(coordinator: User, jr: JobRequest) -> None:
    """A coordinator follows a request (and only then sees who the person is)."""
    if not coordinator.has_role("coordinator"):
        raise _refuse("job", jr.id, coordinator, "take")
    _lock(jr)
    if jr.coordinator_id not in (None, coordinator.id) and _still_coordinator(jr.coordinator):
        raise _refuse("job", jr.id, coordinator, "take")
    jr.coordinator_id = coordinator.id
    log_access("job", jr.id, coordinator, "assigned")
    db.session.flush()


def _job_step(user: User, jr: JobRequest, to_status: str, rel: set[str],
              outcome: str | None = None, interlocutor_id: int | None = None) -> None:
    transition = JOB_TRANSITIONS.get((jr.status, to_status))
    if transition is None or jr.purged_at is not None:
        raise BienveilleursError(_("This step is not possible from the request's current "
                                   "status."))
    if not transition.actors & rel:
        raise _refuse("job", jr.id, user, f"transition to {to_status}"[:60])
    if transition.needs_outcome:
        _choice(outcome, JOB_OUTCOMES, "outcome")
    now = utcnow()
    db.session.add(JobTransition(request_id=jr.id, at=now, actor_id=user.id,
                                 from_status=jr.status, to_status=to_status,
                                 interlocutor_id=interlocutor_id, outcome=outcome))
    jr.status = to_status
    jr.status_changed_at = now
    if to_status == "close":
        jr.closed_at = now
        jr.outcome = outcome
        for offer in jr.offers:
            if offer.answer == "pending":
                offer.answer = "withdrawn"
    log_access("job", jr.id, user, "transition", to_status)


def offer_job_request(user: User, jr: JobRequest, interlocutor_ids: list[int]) -> int:
    """Offer the request to professionals who may lift the barrier; returns new offers."""
    rel = relations(user, jr)
    if not rel & {AUTHOR, COORDINATOR}:
        raise _refuse("job", jr.id, user, "offer")
    if jr.status not in ("ouverte", "proposee") or jr.purged_at is not None:
        raise BienveilleursError(_("This step is not possible from the request's current "
                                   "status."))
    if not interlocutor_ids:
        raise BienveilleursError(_("Choose at least one professional."), "interlocutor_ids")
    chosen = []
    for iid in interlocutor_ids:
        org = db.session.get(Interlocutor, iid)
        if org is None or not org.is_active:
            raise BienveilleursError(_("Choose an interlocutor from the list."),
                                     "interlocutor_ids")
        chosen.append(org)
    already = {o.interlocutor_id for o in jr.offers}
    new = [org for org in chosen if org.id not in already]
    if jr.status == "ouverte":
        _job_step(user, jr, "proposee", rel)
    for org in new:
        jr.offers.append(JobOffer(interlocutor_id=org.id, offered_by_id=user.id))
        log_access("job", jr.id, user, "offered", f"interlocutor {org.id}")
        _notify(interlocutor_staff(org.id), [org.email],
                _("Conciergerie de l'emploi: request #%(id)d", id=jr.id),
                _("A person needs help with a barrier (%(barrier)s) to start a job or "
                  "training on %(date)s. Can your organisation help? Answer here:\n%(link)s",
                  id=jr.id, barrier=BARRIERS[jr.barrier], date=jr.start_date.isoformat(),
                  link=url_for("bienveilleurs.job_requests", _external=True)))
    db.session.flush()
    return len(new)


def answer_offer(user: User, offer: JobOffer, accept: bool) -> None:
    """A professional accepts or declines; the first acceptance wins the request."""
    jr = offer.request
    if not user.has_role("interlocutor", offer.interlocutor_id):
        raise _refuse("job", jr.id, user, "answer")
    _lock(jr)  # two professionals accepting at once: the second sees it taken
    db.session.refresh(offer)
    if offer.answer != "pending" or jr.status != "proposee":
        raise BienveilleursError(_("This offer has already been answered or withdrawn."))
    now = utcnow()
    offer.answer = "accepted" if accept else "declined"
    offer.answered_at = now
    offer.answered_by_id = user.id
    if jr.first_answer_at is None:
        jr.first_answer_at = now
    log_access("job", jr.id, user, "answered", offer.answer)
    if accept:
        _job_step(user, jr, "acceptee", {INTERLOCUTOR}, interlocutor_id=offer.interlocutor_id)
        jr.interlocutor_id = offer.interlocutor_id
        for other in jr.offers:
            if other is not offer and other.answer == "pending":
                other.answer = "withdrawn"
    people = [p for p in (jr.author, jr.coordinator) if p is not None]
    _notify(people, [], _("Conciergerie de l'emploi: request #%(id)d answered", id=jr.id),
            _("A professional has answered request #%(id)d:\n%(link)s", id=jr.id,
              link=url_for("bienveilleurs.job_request", job_id=jr.id, _external=True)))
    db.session.flush()


def close_job_request(user: User, jr: JobRequest, outcome: str | None) -> None:
    """Close a request with its outcome."""
    rel = relations(user, jr)
    if not rel:
        raise _refuse("job", jr.id, user, "close")
    _job_step(user, jr, "close", rel, outcome=outcome)
    db.session.flush()


def visible_job_requests(user: User) -> list[JobRequest]:
    """Requests the user is entitled to see in full."""
    conds = [JobRequest.author_id == user.id]
    if user.has_role("coordinator"):
        conds.append(JobRequest.coordinator_id == user.id)
    orgs = user.scopes("interlocutor")
    if orgs:
        conds.append(JobRequest.interlocutor_id.in_(orgs))
    rows = db.session.execute(
        select(JobRequest).where(or_(*conds)).order_by(JobRequest.start_date).limit(500)
    ).scalars()
    return [r for r in rows if relations(user, r)]


def pending_offers(user: User) -> list[JobOffer]:
    """Offers waiting for an answer from the user's organisations."""
    orgs = user.scopes("interlocutor")
    if not orgs:
        return []
    return list(db.session.execute(
        select(JobOffer).where(JobOffer.interlocutor_id.in_(orgs),
                               JobOffer.answer == "pending").order_by(JobOffer.offered_at)
    ).scalars())


@dataclass
class BoardRow:
    """One request on the conciergerie board: nothing that identifies the person."""

    id: int
    quartier: str
    barrier: str
    status: str
    start_date: date
    days_left: int
    offers: int
    hours_to_first_answer: float | None
    hours_waiting: float | None
    late_answer: bool
    at_risk: bool
    followed: bool


@dataclass
class Board:
    """The conciergerie board and its summary against the answer target."""

    rows: list[BoardRow] = field(default_factory=list)
    target_hours: int = 48
    answered: int = 0
    within_target: int = 0
    median_hours: float | None = None
    at_risk: int = 0


def conciergerie_board(now: datetime | None = None) -> Board:
    """Open requests with time to first answer against the target, and those at risk."""
    now = now or utcnow()
    cfg = current_app.config
    board = Board(target_hours=cfg["CIVIC_CONCIERGERIE_ANSWER_TARGET_HOURS"])
    risk_days = cfg["CIVIC_CONCIERGERIE_AT_RISK_DAYS"]
    all_rows = db.session.execute(select(JobRequest).order_by(JobRequest.start_date)
                                  ).scalars().all()
    answer_hours = []
    for jr in all_rows:
        if jr.first_answer_at is not None:
            h = (jr.first_answer_at - jr.created_at).total_seconds() / 3600
            answer_hours.append(h)
            board.within_target += h <= board.target_hours
        if jr.status == "close":
            continue
        first = ((jr.first_answer_at - jr.created_at).total_seconds() / 3600
                 if jr.first_answer_at else None)
        waiting = None if first is not None else (now - jr.created_at).total_seconds() / 3600
        late = (first if first is not None else waiting) > board.target_hours  # type: ignore
        days_left = (jr.start_date - now.date()).days
        at_risk = jr.status != "acceptee" and (days_left <= risk_days or late)
        board.rows.append(BoardRow(
            id=jr.id, quartier=jr.quartier.name, barrier=jr.barrier, status=jr.status,
            start_date=jr.start_date, days_left=days_left, offers=len(jr.offers),
            hours_to_first_answer=first, hours_waiting=waiting, late_answer=late,
            at_risk=at_risk, followed=jr.coordinator_id is not None))
        board.at_risk += at_risk
    board.answered = len(answer_hours)
    board.median_hours = statistics.median(answer_hours) if answer_hours else None
    board.rows.sort(key=lambda r: (not r.at_risk, r.start_date))
    return board


def send_job_reminders(now: datetime | None = None) -> int:
    """Remind the people in charge of the conciergerie requests the board shows at risk
    (start date near, or no answer within the target), once per status: the coordinator
    following it (every coordinator when nobody does yet) and the organisations still
    asked to answer. Like every email here, no personal data: a number and a link."""
    now = now or utcnow()
    sent = 0
    for row in conciergerie_board(now).rows:
        if not row.at_risk:
            continue
        jr = db.session.get(JobRequest, row.id)
        if jr is None or _reminded_in_this_status(jr):
            continue
        people = _in_charge(jr)
        for offer in jr.offers:
            if offer.answer == "pending":
                people.extend(interlocutor_staff(offer.interlocutor_id))
        _remind("job", jr, now, people, _("Conciergerie request #%(id)d is at risk", id=jr.id),
                _("Conciergerie request #%(id)d must be settled before %(date)s and no "
                  "professional has taken it on yet. Sign in to follow it up:\n%(link)s",
                  id=jr.id, date=jr.start_date.strftime("%d/%m/%Y"),
                  link=url_for("bienveilleurs.job_request", job_id=jr.id, _external=True)))
        sent += 1
    db.session.flush()
    return sent


# ---------------------------------------------------------------- statistics

@dataclass
class Cell:
    """A published count: None when suppressed."""

    value: int | None

    @property
    def suppressed(self) -> bool:
        """True when hidden because it is too small."""
        return self.value is None


def rounded(value: int, base: int) -> int:
    """`value` to the nearest multiple of `base` (halves up)."""
    return base * ((value + base // 2) // base)


def suppress_table(counts: dict[str, dict[str, int]], columns: list[str], base: int = 1
                   ) -> dict[str, dict[str, Cell]]:
    """Publish per-row counts with statistical secrecy.

    Counts from 1 to 4 are hidden (primary suppression). Each row also gets a "total"
    cell, hidden when under 5; when a row shows its total and hides a single cell, that
    cell could be worked out by subtraction, so the row's next smallest non-zero cell is
    hidden too (secondary suppression). No column totals are published: they would let a
    hidden cell be worked out down the column.

    With `base` > 1 every shown count, totals included, is rounded to the nearest multiple
    of `base` on its own: figures published again for a longer period (the current year,
    month after month) then never differ by a count from 1 to 4, which would tell how many
    people were added in between.
    """
    out: dict[str, dict[str, Cell]] = {}
    for row, row_counts in counts.items():
        value = {c: row_counts.get(c, 0) for c in columns}
        hidden = {c for c, v in value.items() if 0 < v < SUPPRESSION_THRESHOLD}
        total = sum(value.values())
        total_hidden = 0 < total < SUPPRESSION_THRESHOLD
        if not total_hidden and len(hidden) == 1:
            others = sorted((v, c) for c, v in value.items() if c not in hidden and v)
            if others:
                hidden.add(others[0][1])
            else:  # pragma: no cover - a lone count under 5 makes the total under 5
                total_hidden = True
        out[row] = {c: Cell(None if c in hidden else rounded(value[c], base))
                    for c in columns}
        out[row]["total"] = Cell(None if total_hidden else rounded(total, base))
    return out


@dataclass
class Statistics:
    """Aggregated, suppressed statistics for a period."""

    start: date
    end: date
    quartiers: list[Quartier]
    by_need: dict[str, dict[str, Cell]]
    by_outcome: dict[str, dict[str, Cell]]
    network: dict[str, dict[str, Cell]]
    conciergerie: dict[str, dict[str, Cell]]
    median_days_to_contact: dict[str, float | None]
    # Set on published figures (published_statistics): when, and which revision.
    published_at: datetime | None = None
    revision: int = 0
    # Shown counts are multiples of this (1: exact, as in releases made before rounding).
    rounding: int = 1


@dataclass(frozen=True)
class PublishedQuartier:
    """A quartier as named in a published release (it may be renamed since)."""

    code: str
    name: str


def statistics_period(year: int, today: date | None = None) -> tuple[date, date]:
    """The published period for a year: whole calendar years only (overlapping periods
    chosen at will would let one count be worked out by difference), and for the current
    year only up to the end of the previous month, so that watching the figures day by
    day does not reveal a single new referral."""
    today = today or utcnow().date()
    start, end = date(year, 1, 1), date(year, 12, 31)
    if year >= today.year:
        end = today.replace(day=1) - timedelta(days=1)
    return start, end


def _median_or_none(values: list[float]) -> float | None:
    if len(values) < SUPPRESSION_THRESHOLD:
        return None
    return round(statistics.median(values), 1)


def network_statistics(start: date, end: date) -> Statistics:
    """Referrals by need and outcome, time to contact, network size by type, conciergerie
    requests by barrier — per quartier, for referrals created in [start, end]."""
    lo = datetime.combine(start, datetime.min.time())
    hi = datetime.combine(end + timedelta(days=1), datetime.min.time())
    quartiers = list(db.session.execute(select(Quartier).order_by(Quartier.code)).scalars())
    codes = [q.code for q in quartiers]
    code_of = {q.id: q.code for q in quartiers}
    refs = db.session.execute(
        select(Referral.quartier_id, Referral.need, Referral.outcome, Referral.created_at,
               Referral.contacted_at)
        .where(Referral.created_at >= lo, Referral.created_at < hi)).all()
    need: dict[str, Counter] = {c: Counter() for c in codes}
    outcome: dict[str, Counter] = {c: Counter() for c in codes}
    contact_days: dict[str, list[float]] = defaultdict(list)
    for qid, nd, oc, created, contacted in refs:
        code = code_of[qid]
        need[code][nd] += 1
        if oc:
            outcome[code][oc] += 1
        if contacted:
            days = (contacted - created).total_seconds() / 86400
            contact_days[code].append(days)
            contact_days["total"].append(days)
    members = db.session.execute(
        select(NetworkMember.quartier_id, NetworkMember.member_type)
        .where(NetworkMember.status == "active")).all()
    network: dict[str, Counter] = {c: Counter() for c in codes}
    for qid, mtype in members:
        network[code_of[qid]][mtype] += 1
    jobs = db.session.execute(
        select(JobRequest.quartier_id, JobRequest.barrier)
        .where(JobRequest.created_at >= lo, JobRequest.created_at < hi)).all()
    conc: dict[str, Counter] = {c: Counter() for c in codes}
    for qid, barrier in jobs:
        conc[code_of[qid]][barrier] += 1
    return Statistics(
        start=start, end=end, quartiers=quartiers,
        by_need=suppress_table(need, list(NEEDS), ROUNDING_BASE),
        by_outcome=suppress_table(outcome, list(REFERRAL_OUTCOMES), ROUNDING_BASE),
        network=suppress_table(network, list(MEMBER_TYPES), ROUNDING_BASE),
        conciergerie=suppress_table(conc, list(BARRIERS), ROUNDING_BASE),
        rounding=ROUNDING_BASE,
        median_days_to_contact={c: _median_or_none(contact_days.get(c, []))
                                for c in [*codes, "total"]},
    )


_TABLES = ("by_need", "by_outcome", "network", "conciergerie")


def _release_payload(stats: Statistics) -> str:
    """The published tables as canonical JSON: suppressed values only."""
    doc = {
        "start": stats.start.isoformat(), "end": stats.end.isoformat(),
        "quartiers": [{"code": q.code, "name": q.name} for q in stats.quartiers],
        "median_days_to_contact": stats.median_days_to_contact,
        "rounding": stats.rounding,
    }
    for name in _TABLES:
        doc[name] = {code: {col: cell.value for col, cell in row.items()}
                     for code, row in getattr(stats, name).items()}
    return json.dumps(doc, sort_keys=True, separators=(",", ":"))


def _from_release(release: StatisticsRelease) -> Statistics:
    doc = json.loads(release.payload)
    tables = {name: {code: {col: Cell(v) for col, v in row.items()}
                     for code, row in doc[name].items()} for name in _TABLES}
    return Statistics(
        start=date.fromisoformat(doc["start"]), end=date.fromisoformat(doc["end"]),
        quartiers=[PublishedQuartier(q["code"], q["name"]) for q in doc["quartiers"]],
        median_days_to_contact=doc["median_days_to_contact"],
        published_at=release.published_at, revision=release.revision,
        rounding=doc.get("rounding", 1), **tables)


def latest_release(start: date, end: date) -> StatisticsRelease | None:
    """The newest revision published for this period, if any."""
    return db.session.execute(
        select(StatisticsRelease)
        .where(StatisticsRelease.period_start == start, StatisticsRelease.period_end == end)
        .order_by(StatisticsRelease.revision.desc()).limit(1)).scalar_one_or_none()


def _publish(start: date, end: date, revision: int, actor: User | None) -> StatisticsRelease:
    release = StatisticsRelease(
        period_start=start, period_end=end, revision=revision,
        published_by_id=getattr(actor, "id", None),
        payload=_release_payload(network_statistics(start, end)))
    try:
        with db.session.begin_nested():
            db.session.add(release)
    except IntegrityError:
        # Another request published this revision first: theirs is the published one.
        existing = latest_release(start, end)
        if existing is None or existing.revision < revision:  # pragma: no cover - defensive
            raise
        return existing
    return release


def published_statistics(year: int, today: date | None = None) -> Statistics:
    """The statistics of a year as published: the first reading after a period closes
    freezes it (the caller commits), later readings return exactly the same figures even if
    referrals of that period change afterwards; a coordinator's revision replaces them."""
    start, end = statistics_period(year, today)
    if end < start:
        return network_statistics(start, end)  # nothing published yet: empty tables
    release = latest_release(start, end) or _publish(start, end, 1, None)
    return _from_release(release)


def revise_statistics(actor: User, year: int, today: date | None = None) -> Statistics:
    """Publish the period's figures again from today's data, as a new revision (audited);
    earlier revisions are kept."""
    from civic.audit import audit

    start, end = statistics_period(year, today)
    if end < start:
        raise BienveilleursError(_("Nothing is published for this year yet."))
    latest = latest_release(start, end)
    release = _publish(start, end, (latest.revision + 1) if latest else 1, actor)
    audit(actor, "bienveilleurs.statistics_revised", None,
          f"{start.isoformat()}..{end.isoformat()} revision {release.revision}")
    return _from_release(release)


def publish_due_statistics(today: date | None = None) -> int:
    """Freeze every period that has closed and is not published yet (last year and the
    current year to the end of last month): for a monthly cron, so figures are frozen at
    the start of the month even if nobody reads them. Returns how many were published."""
    today = today or utcnow().date()
    done = 0
    for year in (today.year - 1, today.year):
        start, end = statistics_period(year, today)
        if end >= start and latest_release(start, end) is None:
            _publish(start, end, 1, None)
            done += 1
    return done


# ---------------------------------------------------------------- coverage

@dataclass
class Coverage:
    """Active bienveilleurs and interlocutors per quartier and need; gaps have neither."""

    quartiers: list[Quartier]
    members: dict[tuple[int, str], int]
    interlocutors: dict[tuple[int, str], int]
    gaps: list[tuple[Quartier, str]]
    members_total: dict[int, int]


def network_coverage() -> Coverage:
    """Who covers what, where: the coordinators' view of the network's holes."""
    quartiers = list(db.session.execute(select(Quartier).order_by(Quartier.code)).scalars())
    members: Counter = Counter()
    totals: Counter = Counter()
    for m in db.session.execute(select(NetworkMember).where(
            NetworkMember.status == "active")).scalars():
        totals[m.quartier_id] += 1
        for t in m.topic_list:
            members[(m.quartier_id, t)] += 1
    orgs: Counter = Counter()
    for org in active_interlocutors():
        served = [q.id for q in org.quartiers] or [q.id for q in quartiers]
        for qid in served:
            for t in org.topic_list:
                orgs[(qid, t)] += 1
    gaps = [(q, n) for q in quartiers for n in NEEDS
            if n != "other" and not members[(q.id, n)] and not orgs[(q.id, n)]]
    return Coverage(quartiers, dict(members), dict(orgs), gaps, dict(totals))


__all__ = ["Any"]


def _purge_after_restore() -> None:
    """An old backup must not bring back personal data that was due to be erased."""
    purge_closed()


POST_RESTORE_HOOKS.append(_purge_after_restore)
