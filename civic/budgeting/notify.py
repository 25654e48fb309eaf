"""Telling people what happened: in-app notifications and (for authors) emails.

Messages are rendered in the recipient's language at the time they are sent, so the
notification list reads the same whatever language the reader uses later.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from flask import current_app
from flask_babel import force_locale
from sqlalchemy import select

from civic.accounts.models import User
from civic.budgeting.models import Notification
from civic.extensions import db
from civic.mail import send_email
from civic.timeutil import utcnow


def notify(user: User, message: Callable[[], str], link: str = "", *,
           email_subject: Callable[[], str] | None = None) -> Notification | None:
    """Add an in-app notification (and an email when a subject is given) for one person."""
    if user is None or user.deleted_at is not None:
        return None
    locale = user.locale or current_app.config["BABEL_DEFAULT_LOCALE"]
    with force_locale(locale):
        text = message()
        subject = email_subject() if email_subject else None
    note = Notification(user_id=user.id, message=text, link=link[:300])
    db.session.add(note)
    if subject and user.email:
        body = text + (f"\n\n{_external(link)}" if link else "")
        send_email(user.email, subject, body)
    return note


def _external(link: str) -> str:
    from flask import has_request_context, request

    if has_request_context():
        return request.host_url.rstrip("/") + link
    return link


def notify_many(users: Iterable[User], message: Callable[[], str], link: str = "", *,
                email_subject: Callable[[], str] | None = None) -> int:
    """Notify each distinct person once; return how many were notified."""
    seen: set[int] = set()
    for user in users:
        if user is None or user.id in seen:
            continue
        seen.add(user.id)
        notify(user, message, link, email_subject=email_subject)
    return len(seen)


def notifications_for(user: User, limit: int = 50) -> list[Notification]:
    """The user's latest notifications, newest first."""
    return list(db.session.execute(
        select(Notification).where(Notification.user_id == user.id)
        .order_by(Notification.id.desc()).limit(limit)
    ).scalars())


def mark_all_read(user: User) -> int:
    """Mark the user's notifications read; return how many were unread."""
    count = 0
    for note in db.session.execute(
        select(Notification).where(Notification.user_id == user.id,
                                   Notification.read_at.is_(None))
    ).scalars():
        note.read_at = utcnow()
        count += 1
    return count
