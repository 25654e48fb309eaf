"""Sending email: stored in the outbox (development, tests) or sent by SMTP (production)."""

from __future__ import annotations

from flask import current_app
from flask_mail import Message

from civic.accounts.models import OutboxMessage
from civic.extensions import db, mail


def send_email(recipient: str, subject: str, body: str) -> OutboxMessage:
    """Queue a plain-text email; with the SMTP backend it is also sent at once."""
    msg = OutboxMessage(recipient=recipient, subject=subject, body=body)
    db.session.add(msg)
    if current_app.config["MAIL_BACKEND"] == "smtp":
        try:
            mail.send(Message(subject=subject, recipients=[recipient], body=body))
            msg.sent = True
        except OSError:  # SMTP down: keep the message in the outbox, do not fail the request
            current_app.logger.exception("could not send email to the SMTP server")
    db.session.flush()
    return msg
