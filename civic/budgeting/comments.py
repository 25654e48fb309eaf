"""Comment moderation: residents report comments, moderators hide, restore or dismiss.

The rule of who may read what lives here, in :func:`comment_views`: once a comment is
hidden its text (and its author's name) is served to moderators only; everyone else,
its author included, reads "hidden by moderation" with the reason. Every decision is
audited, and the author is told why (CONSUL and Decidim work the same way).
Services validate, change state and flush; the view commits (STYLE.md).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from civic.accounts.models import User
from civic.audit import audit
from civic.budgeting.models import CommentReport, Proposal, ProposalComment
from civic.budgeting.notify import notify
from civic.budgeting.services import BudgetError, _check_public, _link
from civic.extensions import db
from civic.timeutil import utcnow

MODERATOR_PERMISSION = "budget.manage"  # the permission that moderates proposals, too


class CommentReason(StrEnum):
    """Why a comment is reported, or was hidden (a short list, as on CONSUL and Decidim)."""

    SPAM = "spam"
    OFFENSIVE = "offensive"
    PERSONAL_DATA = "personal_data"
    OFF_TOPIC = "off_topic"
    OTHER = "other"

    @property
    def title(self) -> str:
        """Translated name of the reason."""
        return str(REASON_TITLES[self])


REASON_TITLES = {
    CommentReason.SPAM: _l("Spam or advertising"),
    CommentReason.OFFENSIVE: _l("Insults, harassment or hate speech"),
    CommentReason.PERSONAL_DATA: _l("Personal information about someone"),
    CommentReason.OFF_TOPIC: _l("Off topic"),
    CommentReason.OTHER: _l("Another reason"),
}


class AlreadyReported(BudgetError):
    """The resident has already reported this comment (not an error: told, nothing done)."""


def reason_title(value: str | None) -> str:
    """Translated title of a reason value ('' for none or an unknown value)."""
    try:
        return CommentReason(value).title if value else ""
    except ValueError:
        return ""


def _reason(value: str | None, field: str = "reason") -> CommentReason:
    try:
        return CommentReason(value or "")
    except ValueError:
        raise BudgetError(_("Choose a reason from the list."), field) from None


def is_moderator(user: Any) -> bool:
    """True if the user moderates the participatory budget (proposals and comments)."""
    from civic.permissions import user_can

    return user_can(user, MODERATOR_PERMISSION)


# ---------------------------------------------------------------- what readers see

@dataclass(frozen=True)
class CommentView:
    """A comment as one reader may see it: ``body`` and ``author_name`` are None when the
    comment is hidden and the reader is not a moderator."""

    id: int
    at: datetime
    author_name: str | None
    body: str | None
    hidden: bool
    hidden_reason: str  # translated, '' when visible
    is_own: bool
    can_report: bool
    open_reports: int  # moderators only (0 for everyone else)


def comment_views(proposal: Proposal, reader: Any) -> list[CommentView]:
    """The proposal's comments in order, as ``reader`` may see them."""
    signed_in = getattr(reader, "is_authenticated", False)
    moderator = is_moderator(reader)
    comments = list(db.session.execute(
        select(ProposalComment).where(ProposalComment.proposal_id == proposal.id)
        .options(selectinload(ProposalComment.author))
        .order_by(ProposalComment.id)).scalars())
    open_counts: dict[int, int] = {}
    if moderator and comments:
        open_counts = dict(db.session.execute(
            select(CommentReport.comment_id, func.count(CommentReport.id))
            .where(CommentReport.comment_id.in_([c.id for c in comments]),
                   CommentReport.resolved_at.is_(None))
            .group_by(CommentReport.comment_id)).all())
    out = []
    for c in comments:
        readable = not c.is_hidden or moderator
        own = signed_in and c.author_id == reader.id
        out.append(CommentView(
            id=c.id, at=c.at, author_name=c.author.display_name if readable else None,
            body=c.body if readable else None, hidden=c.is_hidden,
            hidden_reason=reason_title(c.hidden_reason) if c.is_hidden else "",
            is_own=own, can_report=signed_in and not own and not c.is_hidden,
            open_reports=open_counts.get(c.id, 0)))
    return out


# ---------------------------------------------------------------- residents report

def report_comment(user: User, comment: ProposalComment, reason: str | None,
                   details: str = "") -> CommentReport:
    """A resident reports a comment to the moderators (once each; not their own)."""
    _check_public(user, comment.proposal)
    if comment.author_id == user.id:
        raise BudgetError(_("You cannot report your own comment."))
    if comment.is_hidden:
        raise BudgetError(_("This comment has already been hidden by the moderators."))
    if db.session.scalar(select(CommentReport.id).where(
            CommentReport.comment_id == comment.id, CommentReport.user_id == user.id)):
        raise AlreadyReported(_("You have already reported this comment: the moderators "
                                "will look at it."))
    code = _reason(reason)
    details = (details or "").strip()
    if code is CommentReason.OTHER and len(details) < 5:
        raise BudgetError(_("Say in a few words what the problem is."), "details")
    if len(details) > 1000:
        raise BudgetError(_("At most 1,000 characters."), "details")
    report = CommentReport(comment_id=comment.id, user_id=user.id, reason=code.value,
                           details=details)
    try:
        with db.session.begin_nested():  # two tabs posting at once: the second is told
            db.session.add(report)
    except IntegrityError:
        raise AlreadyReported(_("You have already reported this comment: the moderators "
                                "will look at it.")) from None
    return report


def has_reported(user: Any, comment: ProposalComment) -> bool:
    """True if this (signed-in) person has already reported the comment."""
    if not getattr(user, "is_authenticated", False):
        return False
    return bool(db.session.scalar(select(CommentReport.id).where(
        CommentReport.comment_id == comment.id, CommentReport.user_id == user.id)))


# ---------------------------------------------------------------- the moderators' queue

@dataclass(frozen=True)
class QueueItem:
    """A reported comment waiting for a decision."""

    comment: ProposalComment
    count: int
    first_at: datetime
    reasons: list[tuple[str, int]]  # (translated reason, how many), most frequent first
    details: list[str]


def report_queue(offset: int = 0, limit: int = 50) -> tuple[list[QueueItem], bool]:
    """Comments with open reports, the longest-waiting first; returns (page, has_next)."""
    first = func.min(CommentReport.at)
    rows = db.session.execute(
        select(ProposalComment, func.count(CommentReport.id), first)
        .join(CommentReport, CommentReport.comment_id == ProposalComment.id)
        .where(CommentReport.resolved_at.is_(None))
        .options(selectinload(ProposalComment.author), selectinload(ProposalComment.proposal))
        .group_by(ProposalComment.id).order_by(first, ProposalComment.id)
        .offset(offset).limit(limit + 1)).all()
    page = rows[:limit]
    reports: dict[int, list[CommentReport]] = {}
    if page:
        for r in db.session.execute(select(CommentReport).where(
                CommentReport.comment_id.in_([c.id for c, _n, _at in page]),
                CommentReport.resolved_at.is_(None)).order_by(CommentReport.id)).scalars():
            reports.setdefault(r.comment_id, []).append(r)
    items = []
    for comment, count, first_at in page:
        mine = reports.get(comment.id, [])
        tally = Counter(r.reason for r in mine)
        items.append(QueueItem(
            comment=comment, count=count, first_at=first_at,
            reasons=[(reason_title(code), n) for code, n in tally.most_common()],
            details=[r.details for r in mine if r.details]))
    return items, len(rows) > limit


def hidden_comments(limit: int = 50) -> list[ProposalComment]:
    """Hidden comments, most recently hidden first (to restore one)."""
    return list(db.session.execute(
        select(ProposalComment).where(ProposalComment.hidden_at.is_not(None))
        .order_by(ProposalComment.hidden_at.desc(), ProposalComment.id.desc())
        .limit(limit)).scalars())


def reports_of(comment: ProposalComment) -> list[CommentReport]:
    """Every report of a comment, open and closed, in order."""
    return list(db.session.execute(select(CommentReport).where(
        CommentReport.comment_id == comment.id).order_by(CommentReport.id)).scalars())


def open_report_count(comment: ProposalComment) -> int:
    """How many reports of the comment wait for a decision."""
    return db.session.scalar(select(func.count(CommentReport.id)).where(
        CommentReport.comment_id == comment.id, CommentReport.resolved_at.is_(None))) or 0


def _close_reports(comment: ProposalComment, outcome: str) -> int:
    now = utcnow()
    closed = 0
    for report in db.session.execute(select(CommentReport).where(
            CommentReport.comment_id == comment.id, CommentReport.resolved_at.is_(None))
    ).scalars():
        report.resolved_at, report.outcome = now, outcome
        closed += 1
    return closed


# ---------------------------------------------------------------- moderators decide

def _note(note: str | None) -> str:
    note = (note or "").strip()
    if len(note) > 1000:
        raise BudgetError(_("At most 1,000 characters."), "note")
    return note


def hide_comment(actor: User, comment: ProposalComment, reason: str | None,
                 note: str = "") -> None:
    """Hide a comment with a reason (audited; its open reports are closed; the author is
    told why). Its text stays in the database for the moderators and the author's export."""
    if comment.is_hidden:
        raise BudgetError(_("This comment is already hidden."), "decision")
    if not reason:
        raise BudgetError(_("Choose why the comment is hidden: the reason is shown in its "
                            "place."), "reason")
    code = _reason(reason)
    note = _note(note)
    comment.hidden_at, comment.hidden_by_id = utcnow(), actor.id
    comment.hidden_reason = code.value
    closed = _close_reports(comment, "hidden")
    proposal = comment.proposal

    def message() -> str:
        text = _("Your comment on “%(title)s” was hidden by the moderators. Reason: "
                 "%(reason)s.", title=proposal.title, reason=code.title)
        return text + ("\n" + note if note else "")

    notify(comment.author, message, _link(proposal) + "#commentaires",
           email_subject=lambda: _("Your comment was hidden by the moderators"))
    audit(actor, "budget.comment_hidden", comment.author,
          f"comment {comment.id} on proposal {proposal.id}: {code.value}, "
          f"{closed} report(s) closed{'; ' + note if note else ''}")
    db.session.flush()


def restore_comment(actor: User, comment: ProposalComment, note: str = "") -> None:
    """Show a hidden comment again (audited; the author is told)."""
    if not comment.is_hidden:
        raise BudgetError(_("Only a hidden comment can be restored."), "decision")
    note = _note(note)
    previous = comment.hidden_reason
    comment.hidden_at = comment.hidden_by_id = comment.hidden_reason = None
    proposal = comment.proposal

    def message() -> str:
        text = _("Your comment on “%(title)s” is visible again.", title=proposal.title)
        return text + ("\n" + note if note else "")

    notify(comment.author, message, _link(proposal) + "#commentaires")
    audit(actor, "budget.comment_restored", comment.author,
          f"comment {comment.id} on proposal {proposal.id} (was {previous})"
          f"{'; ' + note if note else ''}")
    db.session.flush()


def dismiss_comment_reports(actor: User, comment: ProposalComment, note: str = "") -> int:
    """Keep the comment online and close its open reports (audited); returns how many."""
    note = _note(note)
    closed = _close_reports(comment, "dismissed")
    if not closed:
        raise BudgetError(_("This comment has no report waiting."), "decision")
    audit(actor, "budget.comment_reports_dismissed", comment.author,
          f"comment {comment.id} on proposal {comment.proposal_id}: {closed} report(s)"
          f"{'; ' + note if note else ''}")
    db.session.flush()
    return closed


DECISIONS = {
    "hide": _l("Hide the comment"),
    "restore": _l("Restore the comment"),
    "dismiss": _l("Keep it online and close the reports"),
}


def decisions_for(comment: ProposalComment) -> list[str]:
    """The decisions that make sense for the comment now."""
    if comment.is_hidden:
        return ["restore"]
    return ["hide", "dismiss"] if open_report_count(comment) else ["hide"]


def decide(actor: User, comment: ProposalComment, decision: str | None, reason: str | None,
           note: str = "") -> str:
    """Apply a moderator's decision (hide, restore or dismiss); returns the decision."""
    if decision not in decisions_for(comment):
        raise BudgetError(_("Choose a decision from the list."), "decision")
    if decision == "hide":
        hide_comment(actor, comment, reason, note)
    elif decision == "restore":
        restore_comment(actor, comment, note)
    else:
        dismiss_comment_reports(actor, comment, note)
    return decision


def export_comment_reports(user: Any) -> list[dict[str, Any]]:
    """The comment reports a person made (RGPD export)."""
    rows = db.session.execute(select(CommentReport).where(
        CommentReport.user_id == user.id).order_by(CommentReport.id)).scalars()
    return [{"comment_id": r.comment_id, "reason": r.reason, "details": r.details,
             "at": r.at.isoformat() + "Z", "outcome": r.outcome} for r in rows]
