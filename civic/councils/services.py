"""Council services: members and the cadre de référence checks, volunteers and the draw,
meetings (convocation, iCal, attendance, minutes), avis, questions and the follow-up
dashboard. Services validate, change state and flush; the view commits once (STYLE.md).
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, has_request_context, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from civic.accounts import services as accounts
from civic.accounts.models import User
from civic.accounts.services import AccountError
from civic.actionplan import services as actionplan
from civic.actionplan.models import PlanNode
from civic.actionplan.states import ActionStatus
from civic.audit import audit
from civic.councils import sortition
from civic.councils.models import (
    Attendance,
    College,
    CouncilAvis,
    CouncilDraw,
    CouncilMember,
    CouncilQuestion,
    Meeting,
    Opinion,
    Volunteer,
)
from civic.extensions import db
from civic.mail import send_email
from civic.permissions import user_can
from civic.territory.models import Council
from civic.timeutil import utcnow

PARIS = ZoneInfo("Europe/Paris")
MAX_ID = 2**31 - 1
MAX_SEATS = 60
STALE_MONTHS = 6  # an action without update for this long is flagged on the dashboard


class CouncilError(AccountError):
    """A refused council operation; ``field`` names the form field concerned."""


class NotInYourCouncil(CouncilError):
    """A council member acting outside the councils their role is scoped to."""


def today() -> date:
    """Today in Europe/Paris (terms and ages are civil dates)."""
    return datetime.now(PARIS).date()


def clean_text(value: str | None, field: str, limit: int, *, required: bool = True) -> str:
    """Trimmed text, refused when required and empty or longer than ``limit``."""
    value = (value or "").strip()
    if required and not value:
        raise CouncilError(_("This field is required."), field)
    if len(value) > limit:
        raise CouncilError(_("Keep this under %(num)d characters.", num=limit), field)
    return value


# --- reading ----------------------------------------------------------------------------


def get_council(council_id: int) -> Council | None:
    """The council with this id, if any."""
    return db.session.get(Council, council_id) if 0 < council_id <= MAX_ID else None


def list_councils() -> list[Council]:
    """Every council, by name."""
    return list(db.session.execute(select(Council).order_by(Council.name)).scalars())


def get_row(model: Any, row_id: int) -> Any:
    """A row by id (None for ids no row can have)."""
    return db.session.get(model, row_id) if 0 < row_id <= MAX_ID else None


def current_members(council: Council, on: date | None = None) -> list[CouncilMember]:
    """Members whose term runs on ``on`` (today by default)."""
    on = on or today()
    return [m for m in council.members if m.is_current(on)]


# --- the cadre de référence -------------------------------------------------------------


@dataclass(frozen=True)
class RuleCheck:
    """One rule of the cadre de référence, whether the council meets it, and why."""

    rule: str
    ok: bool
    detail: str


def rule_checks(council: Council, on: date | None = None) -> list[RuleCheck]:
    """Check the loi Lamy rules on the current members.

    Loi n° 2014-173 art. 7 and the cadre de référence des conseils citoyens: the habitants
    collège is at least half of the members, and drawn habitants respect parity between
    women and men (at most one apart when their number is odd).
    """
    members = current_members(council, on)
    habitants = [m for m in members if m.college == College.HABITANTS]
    drawn = [m for m in habitants if m.draw_id is not None]
    checks = [RuleCheck(
        _("Residents are at least half of the members"),
        bool(members) and 2 * len(habitants) >= len(members),
        _("%(a)d residents out of %(b)d members.", a=len(habitants), b=len(members)),
    )]
    women = sum(1 for m in drawn if m.gender == "female")
    men = sum(1 for m in drawn if m.gender == "male")
    checks.append(RuleCheck(
        _("Parity between women and men among drawn residents"),
        bool(drawn) and abs(women - men) <= 1 and women + men == len(drawn),
        _("%(w)d women and %(m)d men among %(n)d drawn residents.", w=women, m=men,
          n=len(drawn)),
    ))
    return checks


# --- members ----------------------------------------------------------------------------


def _link_user(actor: Any, council: Council, email: str | None) -> User | None:
    """The account with this email, given the council_member role for this council."""
    email = (email or "").strip()
    if not email:
        return None
    user = accounts.find_user_by_email(email)
    if user is None or user.deleted_at is not None:
        raise CouncilError(_("No account has this email address."), "email")
    if not user.has_role("council_member", council.id):
        accounts.grant_role(actor, user, "council_member", council.id)
    return user


def add_member(actor: Any, council: Council, *, published_name: str, college: str,
               gender: str | None, organisation: str | None, email: str | None,
               term_start: date | None, term_end: date | None) -> CouncilMember:
    """Appoint a member (the associations collège, or a resident co-opted by the council)."""
    name = clean_text(published_name, "published_name", 80)
    try:
        the_college = College(college)
    except ValueError as exc:
        raise CouncilError(_("Choose a collège from the list."), "college") from exc
    if gender not in (None, "", "female", "male", "other"):
        raise CouncilError(_("Choose from the list."), "gender")
    start = term_start or today()
    if term_end is not None and term_end < start:
        raise CouncilError(_("The term cannot end before it starts."), "term_end")
    organisation = clean_text(organisation, "organisation", 160,
                         required=the_college == College.ASSOCIATIONS)
    user = _link_user(actor, council, email)
    member = CouncilMember(council=council, published_name=name, college=the_college,
                           gender=gender or None, organisation=organisation,
                           user_id=user.id if user else None, term_start=start,
                           term_end=term_end)
    db.session.add(member)
    audit(actor, "council.member_added", user, f"{council.name}: {name} ({the_college.value})")
    db.session.flush()
    return member


def end_term(actor: Any, member: CouncilMember) -> None:
    """End a member's term today (resignation, moving away…)."""
    if member.term_end is not None and member.term_end < today():
        raise CouncilError(_("This term has already ended."))
    member.term_end = today()
    audit(actor, "council.member_ended", None,
          f"{member.council.name}: {member.published_name}")
    db.session.flush()


# --- volunteers and the draw ------------------------------------------------------------


def apply_refusal(user: User, council: Council) -> str | None:
    """Why this person cannot volunteer for the council's draw (None when they can)."""
    if council.quartier_id is None:
        return _("This council has no quartier: its residents are not drawn by lot.")
    if user.quartier_id != council.quartier_id:
        return _("Only residents of %(q)s can volunteer for this council.",
                 q=council.quartier.name)
    if db.session.execute(select(Volunteer).where(
            Volunteer.council_id == council.id, Volunteer.user_id == user.id)).scalar():
        return _("You have already volunteered for this council.")
    return None


def volunteer(user: User, council: Council, *, published_name: str, gender: str | None,
              birth_year: int | None) -> Volunteer:
    """Record a resident's application to the habitants collège's draw."""
    refusal = apply_refusal(user, council)
    if refusal:
        raise CouncilError(refusal)
    name = clean_text(published_name, "published_name", 80)
    if gender not in sortition.GENDERS:
        raise CouncilError(_("Choose women or men: the draw keeps parity between them."),
                           "gender")
    accounts.check_birth_year(birth_year)
    entry = Volunteer(council=council, user_id=user.id, published_name=name, gender=gender,
                      birth_year=birth_year)
    db.session.add(entry)
    audit(user, "council.volunteered", user, council.name)
    db.session.flush()
    return entry


def open_volunteers(council: Council) -> list[Volunteer]:
    """Volunteers not drawn yet, by number."""
    return list(db.session.execute(
        select(Volunteer).where(Volunteer.council_id == council.id,
                                Volunteer.drawn_in_id.is_(None)).order_by(Volunteer.id)
    ).scalars())


def stratum_title(stratum: str) -> str:
    """A stratum key (``female 16-29``) in the reader's language."""
    gender, _sep, band = stratum.partition(" ")
    label = _("Women") if gender == "female" else _("Men") if gender == "male" else gender
    return _("%(gender)s aged %(band)s", gender=label, band=band) if band else label


def draw_shortfall_message(exc: sortition.ShortStrata) -> str:
    """Say which strata lack volunteers and how many are missing."""
    parts = [_("%(stratum)s: %(seats)d seats, %(volunteers)d volunteers, %(missing)d missing",
               stratum=stratum_title(s.stratum), seats=s.seats, volunteers=s.volunteers,
               missing=s.missing) for s in exc.shortfalls]
    return _("Not enough volunteers to keep parity; nothing was drawn. %(detail)s. "
             "Call for more volunteers, or draw fewer seats.", detail="; ".join(parts))


def run_draw(actor: Any, council: Council, *, seats: int | None, seed: str | None,
             age_bands: str | None, term_end: date | None) -> CouncilDraw:
    """Draw the habitants collège by lot among the volunteers, with parity.

    The algorithm is in ``civic.councils.sortition``; the report keeps the seed, the
    quotas and the volunteer numbers per stratum so that anyone can re-run it. All or
    nothing: a stratum short of volunteers refuses the whole draw.
    """
    if seats is None or not 2 <= seats <= MAX_SEATS or seats % 2:
        raise CouncilError(_("Enter an even number of seats between 2 and %(num)d (parity).",
                             num=MAX_SEATS), "seats")
    seed = clean_text(seed, "seed", 120, required=False) or secrets.token_hex(16)
    try:
        bands = sortition.parse_age_bands(age_bands)
    except sortition.SortitionError as exc:
        raise CouncilError(_("Write age bands like 16-29, 30-59, 60+ (without overlap)."),
                           "age_bands") from exc
    if len(bands) > seats // 2:
        raise CouncilError(_("Use fewer age bands than seats per gender."), "age_bands")
    if term_end is not None and term_end <= today():
        raise CouncilError(_("The term must end after today."), "term_end")
    on = today()
    pool = open_volunteers(council)
    candidates = []
    for v in pool:
        age = on.year - v.birth_year if v.birth_year else None
        stratum = sortition.stratum_of(v.gender, age, bands)
        if stratum is not None:
            candidates.append(sortition.Candidate(v.id, stratum))
    try:
        result = sortition.draw(seed, candidates, sortition.quotas(seats, bands))
    except sortition.ShortStrata as exc:
        raise CouncilError(draw_shortfall_message(exc), "seats") from exc
    report = {"quotas": result.quotas, "volunteers": result.volunteers,
              "drawn": result.drawn, "outside_strata": len(pool) - len(candidates)}
    the_draw = CouncilDraw(council=council, by_id=getattr(actor, "id", None), seed=seed,
                           seats=seats, age_bands=", ".join(b.key for b in bands),
                           report_json=json.dumps(report, sort_keys=True))
    db.session.add(the_draw)
    db.session.flush()
    by_number = {v.id: v for v in pool}
    for number in result.drawn_numbers:
        v = by_number[number]
        v.drawn_in_id = the_draw.id
        user = db.session.get(User, v.user_id) if v.user_id else None
        if user is not None and user.deleted_at is None and not user.has_role(
                "council_member", council.id):
            accounts.grant_role(actor, user, "council_member", council.id)
        db.session.add(CouncilMember(
            council=council, user_id=v.user_id, published_name=v.published_name,
            college=College.HABITANTS, gender=v.gender, draw_id=the_draw.id,
            term_start=on, term_end=term_end))
    audit(actor, "council.draw", None, f"{council.name}: seed {seed}, {seats} seats")
    db.session.flush()
    return the_draw


def draw_report(the_draw: CouncilDraw) -> dict[str, Any]:
    """The public report: quotas, volunteer numbers per stratum, drawn names.

    Names are listed alphabetically, not in draw order, so that a name cannot be matched
    to its stratum (an age band is personal data the report must not publish).
    """
    report = json.loads(the_draw.report_json)
    return {**report, "names": sorted((m.published_name for m in the_draw.members),
                                      key=str.casefold)}


def rerun_draw(the_draw: CouncilDraw) -> list[int]:
    """Re-run a recorded draw from its published report (what anyone can do by hand)."""
    report = json.loads(the_draw.report_json)
    candidates = [sortition.Candidate(n, s) for s, numbers in report["volunteers"].items()
                  for n in numbers]
    return sortition.draw(the_draw.seed, candidates, report["quotas"]).drawn_numbers


# --- meetings ---------------------------------------------------------------------------


def local_to_utc(day: date | None, time_text: str | None) -> datetime:
    """A date and an HH:MM time in Europe/Paris, as naive UTC."""
    if day is None:
        raise CouncilError(_("Enter the date of the meeting."), "day")
    try:
        hours, minutes = (int(p) for p in (time_text or "").strip().split(":"))
        local = datetime(day.year, day.month, day.day, hours, minutes, tzinfo=PARIS)
    except (ValueError, TypeError) as exc:
        raise CouncilError(_("Enter a time like 18:30."), "time") from exc
    return local.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)


def schedule_meeting(actor: Any, council: Council, *, day: date | None, time: str | None,
                     location: str | None, agenda: str | None,
                     duration_minutes: int | None = None) -> Meeting:
    """Plan a meeting with its agenda."""
    starts_at = local_to_utc(day, time)
    if not 2000 <= starts_at.year <= 2100:
        raise CouncilError(_("Enter a date between 2000 and 2100."), "day")
    duration = duration_minutes or 120
    if not 15 <= duration <= 600:
        raise CouncilError(_("Enter a duration between 15 and 600 minutes."), "duration")
    meeting = Meeting(council=council, starts_at=starts_at, duration_minutes=duration,
                      location=clean_text(location, "location", 255),
                      agenda=clean_text(agenda, "agenda", 5000),
                      created_by_id=getattr(actor, "id", None))
    db.session.add(meeting)
    audit(actor, "council.meeting", None, f"{council.name}: {starts_at.isoformat()}")
    db.session.flush()
    return meeting


def _link(endpoint: str, **values: Any) -> str:
    """An absolute link in a request; a site path from the CLI (no host is known there)."""
    if has_request_context() or current_app.config.get("SERVER_NAME"):
        return url_for(endpoint, _external=True, **values)
    with current_app.test_request_context():
        return url_for(endpoint, **values)


def convene(actor: Any, meeting: Meeting) -> int:
    """Email the convocation (agenda, place, iCal link) to every current member with an email."""
    if meeting.starts_at < utcnow():
        raise CouncilError(_("This meeting is over: it can no longer be convened."))
    ics = _link("councils.meeting_ics", meeting_id=meeting.id)
    page = _link("councils.meeting", meeting_id=meeting.id)
    when = meeting.starts_at.replace(tzinfo=ZoneInfo("UTC")).astimezone(PARIS)
    sent = 0
    for member in current_members(meeting.council):
        user = db.session.get(User, member.user_id) if member.user_id else None
        if user is None or not user.email or user.deleted_at is not None:
            continue
        body = _("Hello %(name)s,\n\nThe %(council)s meets on %(when)s at %(place)s.\n\n"
                 "Agenda:\n%(agenda)s\n\nAdd it to your calendar: %(ics)s\n"
                 "Meeting page: %(page)s\n", name=member.published_name,
                 council=meeting.council.name, when=when.strftime("%d/%m/%Y %H:%M"),
                 place=meeting.location, agenda=meeting.agenda, ics=ics, page=page)
        send_email(user.email, _("Convocation: %(council)s, %(date)s",
                                 council=meeting.council.name,
                                 date=when.strftime("%d/%m/%Y")), body)
        sent += 1
    meeting.convened_at = utcnow()
    audit(actor, "council.convened", None, f"meeting {meeting.id}: {sent} emails")
    db.session.flush()
    return sent


def attendance_members(meeting: Meeting) -> list[CouncilMember]:
    """Members who may be marked present: in office on the meeting's day, or today (a
    council installed on the day of its first meeting is recorded afterwards)."""
    day = meeting.starts_at.date()
    return [m for m in meeting.council.members if m.is_current(day) or m.is_current(today())]


def record_attendance(actor: Any, meeting: Meeting, present_ids: list[int]) -> None:
    """Record who attended (members not ticked are recorded absent)."""
    members = {m.id: m for m in attendance_members(meeting)}
    if not set(present_ids) <= set(members):
        raise CouncilError(_("Choose members of this council."), "present")
    existing = {a.member_id: a for a in meeting.attendance}
    for member_id in members:
        row = existing.get(member_id)
        if row is None:
            row = Attendance(meeting=meeting, member_id=member_id)
            db.session.add(row)
        row.present = member_id in present_ids
    audit(actor, "council.attendance", None, f"meeting {meeting.id}: {len(present_ids)} present")
    db.session.flush()


def save_minutes(actor: Any, meeting: Meeting, *, minutes: str | None, approved: bool) -> None:
    """Write the minutes; once the council has approved them they are published."""
    if meeting.minutes_approved_at is not None:
        raise CouncilError(_("Approved minutes are published and can no longer change."),
                           "minutes")
    meeting.minutes = clean_text(minutes, "minutes", 20000)
    if approved:
        if meeting.starts_at > utcnow():
            raise CouncilError(_("Minutes can be approved only after the meeting."),
                               "approved")
        meeting.minutes_approved_at = utcnow()
    audit(actor, "council.minutes", None,
          f"meeting {meeting.id}: {'approved' if approved else 'draft'}")
    db.session.flush()


def meetings_of(council: Council | None = None) -> list[Meeting]:
    """Meetings, latest first (of one council, or all)."""
    stmt = select(Meeting).order_by(Meeting.starts_at.desc())
    if council is not None:
        stmt = stmt.where(Meeting.council_id == council.id)
    return list(db.session.execute(stmt).scalars())


def _ics_text(value: str) -> str:
    return (value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n"))


def ical(meetings: list[Meeting], name: str) -> str:
    """An iCalendar (RFC 5545) document of meetings, times in UTC."""
    stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//civic//conseils citoyens//FR",
             "CALSCALE:GREGORIAN", f"X-WR-CALNAME:{_ics_text(name)}"]
    for m in meetings:
        end = m.starts_at + timedelta(minutes=m.duration_minutes)
        lines += ["BEGIN:VEVENT", f"UID:meeting-{m.id}@civic", f"DTSTAMP:{stamp}",
                  f"DTSTART:{m.starts_at.strftime('%Y%m%dT%H%M%SZ')}",
                  f"DTEND:{end.strftime('%Y%m%dT%H%M%SZ')}",
                  f"SUMMARY:{_ics_text(m.council.name)}",
                  f"LOCATION:{_ics_text(m.location)}",
                  f"DESCRIPTION:{_ics_text(m.agenda)}", "END:VEVENT"]
    lines.append("END:VCALENDAR")
    return "".join(_fold(line) + "\r\n" for line in lines)


def _fold(line: str) -> str:
    """Fold a content line at 75 octets (RFC 5545 §3.1), never inside a UTF-8 character."""
    out, current = [], ""
    for char in line:
        limit = 75 if not out else 74  # continuation lines start with a space
        if len((current + char).encode()) > limit:
            out.append(current)
            current = ""
        current += char
    out.append(current)
    return "\r\n ".join(out)


# --- follow-up of the action plan -------------------------------------------------------


def member_council(user: Any, council: Council) -> Council:
    """Refuse a council member acting outside the councils their role is scoped to."""
    if council.id not in user.scopes("council_member"):
        raise NotInYourCouncil(_("You can act only in your own council."))
    return council


def concerns(council: Council, action: PlanNode) -> bool:
    """True if the action is one the council follows: an action of its quartier."""
    return action.is_action and council.quartier_id is not None and any(
        q.id == council.quartier_id for q in action.quartiers)


def council_actions(council: Council) -> list[PlanNode]:
    """Actions of the council's quartier."""
    if council.quartier_id is None:
        return []
    from civic.actionplan.models import node_quartier

    nodes = db.session.execute(
        select(PlanNode).join(node_quartier, node_quartier.c.node_id == PlanNode.id)
        .where(node_quartier.c.quartier_id == council.quartier_id).order_by(PlanNode.id)
    ).scalars()
    return [n for n in nodes if n.is_action]


def _action_for(council: Council, action: PlanNode | None) -> PlanNode:
    if action is None or not concerns(council, action):
        raise CouncilError(_("This action does not concern your council's quartier."))
    return action


def give_avis(user: Any, council: Council, action: PlanNode | None, *, opinion: str | None,
              rating: int | None, text: str | None) -> CouncilAvis:
    """Record (or update) the council's avis and rating on an action of its quartier."""
    member_council(user, council)
    action = _action_for(council, action)
    try:
        the_opinion = Opinion(opinion)
    except ValueError as exc:
        raise CouncilError(_("Choose favourable, reserved or unfavourable."), "opinion") from exc
    if rating is None or not 1 <= rating <= 5:
        raise CouncilError(_("Rate from 1 to 5."), "rating")
    body = clean_text(text, "text", 4000)
    avis = db.session.execute(select(CouncilAvis).where(
        CouncilAvis.council_id == council.id, CouncilAvis.node_id == action.id)).scalar()
    if avis is None:
        avis = CouncilAvis(council=council, node=action)
        db.session.add(avis)
    avis.opinion, avis.rating, avis.text = the_opinion, rating, body
    avis.author_id, avis.at = user.id, utcnow()
    audit(user, "council.avis", None,
          f"{council.name} on {action.code or action.key}: {the_opinion.value}")
    db.session.flush()
    return avis


def ask_question(user: Any, council: Council, action: PlanNode | None, text: str | None
                 ) -> CouncilQuestion:
    """Ask the porteur of an action of the council's quartier a question."""
    member_council(user, council)
    action = _action_for(council, action)
    question = CouncilQuestion(council=council, node=action, text=clean_text(text, "text", 2000),
                               asked_by_id=user.id)
    db.session.add(question)
    audit(user, "council.question", None, f"{council.name} on {action.code or action.key}")
    db.session.flush()
    return question


def can_answer(actor: Any, question: CouncilQuestion) -> bool:
    """The coordination team answers every question; a porteur, those on their actions."""
    return user_can(actor, "councils.manage") or actionplan.can_update_action(
        actor, question.node)


def answer_question(actor: Any, question: CouncilQuestion, answer: str | None) -> None:
    """Answer a council's question: the porteur of the action, or the team for them."""
    if not can_answer(actor, question):
        raise CouncilError(_("Only the porteur of the action or the coordination team may "
                             "answer this question."))
    question.answer = clean_text(answer, "answer", 4000)
    question.answered_at = utcnow()
    question.answered_by_id = getattr(actor, "id", None)
    audit(actor, "council.answer", None, f"question {question.id}")
    db.session.flush()


def unanswered_questions() -> list[CouncilQuestion]:
    """Questions waiting for an answer, oldest first."""
    return list(db.session.execute(
        select(CouncilQuestion).where(CouncilQuestion.answered_at.is_(None))
        .order_by(CouncilQuestion.asked_at)).scalars())


def questions_for_porteur(user: Any, *, answered: bool = False) -> list[CouncilQuestion]:
    """Questions on the actions a porteur's grants are scoped to (unanswered ones by
    default), oldest first."""
    ids = [a.id for a in actionplan.actions_of_porteur(user)]
    if not ids:
        return []
    done = CouncilQuestion.answered_at.is_not(None) if answered else \
        CouncilQuestion.answered_at.is_(None)
    return list(db.session.execute(
        select(CouncilQuestion).where(CouncilQuestion.node_id.in_(ids), done)
        .order_by(CouncilQuestion.asked_at, CouncilQuestion.id)).scalars())


def avis_on(action: PlanNode) -> list[CouncilAvis]:
    """Every council's avis on an action."""
    return list(db.session.execute(select(CouncilAvis).where(
        CouncilAvis.node_id == action.id).order_by(CouncilAvis.at)).scalars())


def questions_on(action: PlanNode) -> list[CouncilQuestion]:
    """Questions asked on an action, with their answers."""
    return list(db.session.execute(select(CouncilQuestion).where(
        CouncilQuestion.node_id == action.id).order_by(CouncilQuestion.asked_at)).scalars())


def avis_of(council: Council) -> list[CouncilAvis]:
    """Every avis a council gave, latest first."""
    return list(db.session.execute(select(CouncilAvis).where(
        CouncilAvis.council_id == council.id).order_by(CouncilAvis.at.desc())).scalars())


@dataclass(frozen=True)
class DashboardRow:
    """One action on a council's dashboard."""

    action: PlanNode
    late_indicators: list[str]
    last_update: datetime | None
    stale: bool
    avis: CouncilAvis | None


def last_update(action: PlanNode) -> datetime | None:
    """The latest dated change: a status change or an indicator value."""
    dates = [h.at for h in action.history]
    dates += [v.recorded_at for i in action.indicators for v in i.values]
    return max(dates) if dates else None


def late_indicators(action: PlanNode, year: int) -> list[str]:
    """Indicators behind target in a past or current year (or not measured past its year).

    "Behind" compares with the baseline's direction: a target below the baseline
    (unemployment to lower) is late while the measure stays above it.
    """
    late = []
    for ind in action.indicators:
        for v in ind.values:
            if v.target is None or v.year > year:
                continue
            lowering = ind.baseline is not None and v.target < ind.baseline
            if v.measured is None:
                if v.year < year:
                    late.append(ind.name)
                    break
            elif (v.measured > v.target) if lowering else (v.measured < v.target):
                late.append(ind.name)
                break
    return late


def dashboard(council: Council, months: int = STALE_MONTHS) -> list[DashboardRow]:
    """The actions of the council's quartier: status, late indicators, stale ones."""
    now = utcnow()
    limit = now - timedelta(days=30 * months)
    avis = {a.node_id: a for a in avis_of(council)}
    rows = []
    for action in council_actions(council):
        updated = last_update(action)
        open_ = action.status in (ActionStatus.PLANNED, ActionStatus.IN_PROGRESS,
                                  ActionStatus.EVOLVED)
        rows.append(DashboardRow(action, late_indicators(action, now.year), updated,
                                 open_ and (updated is None or updated < limit),
                                 avis.get(action.id)))
    return rows


# --- yearly report ----------------------------------------------------------------------


@dataclass(frozen=True)
class ReportRow:
    """One action in a council's yearly report."""

    action: PlanNode
    values: list[tuple[str, str, float | None, float | None]]  # name, unit, target, measured
    avis: CouncilAvis | None
    evaluation: Any
    questions: int


def yearly_report(council: Council, year: int) -> dict[str, Any]:
    """What happened in the council's quartier in a year: actions with their indicators,
    the council's avis and the evaluation decision; meetings held and attendance."""
    from civic.councils.models import EvaluationDecision

    avis = {a.node_id: a for a in avis_of(council)}
    rows = []
    for action in council_actions(council):
        values = [(i.name, i.unit, v.target, v.measured) for i in action.indicators
                  for v in i.values if v.year == year]
        evaluation = db.session.execute(select(EvaluationDecision).where(
            EvaluationDecision.node_id == action.id, EvaluationDecision.year == year)).scalar()
        questions = sum(1 for q in questions_on(action) if q.council_id == council.id
                        and q.asked_at.year == year)
        rows.append(ReportRow(action, values, avis.get(action.id), evaluation, questions))
    meetings = [m for m in meetings_of(council) if m.starts_at.year == year]
    marked = [a for m in meetings for a in m.attendance]
    rate = (100 * sum(1 for a in marked if a.present) / len(marked)) if marked else None
    return {"rows": rows, "meetings": meetings, "attendance_rate": rate}
