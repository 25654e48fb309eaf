"""The one reminder before the close: residents who started a ballot and did not confirm it.

Run by `flask budget remind` and by `flask budget tick` (cron). A draft is claimed with a
conditional UPDATE (reminded_at IS NULL) before its email is written, so two runs at the
same time, or a run every minute, still send each person one email per campaign.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from flask import current_app, has_request_context, url_for
from flask_babel import force_locale, format_datetime
from flask_babel import gettext as _
from sqlalchemy import exists, select, update

from civic.accounts.models import User
from civic.budgeting.models import Campaign, Envelope
from civic.budgeting.states import Phase
from civic.extensions import db
from civic.mail import send_email
from civic.timeutil import utcnow
from civic.voting.models import BallotDraft, VoteParticipation

# The reminder goes out in the last 48 hours of the vote (the règlement's "relance").
REMIND_BEFORE_CLOSE = timedelta(hours=48)


def _link(campaign_id: int) -> str:
    """An absolute link in a request; a site path from the CLI when no host is configured."""
    if has_request_context() or current_app.config.get("SERVER_NAME"):
        return url_for("voting.vote_page", campaign_id=campaign_id, _external=True)
    with current_app.test_request_context():
        return url_for("voting.vote_page", campaign_id=campaign_id)


def send_vote_reminders(now: datetime | None = None) -> int:
    """Email, once, each resident whose ballot is started but not confirmed in a vote that
    closes within 48 hours; return how many people were emailed."""
    now = now or utcnow()
    campaigns = db.session.execute(
        select(Campaign).where(Campaign.vote_starts_at <= now,
                               Campaign.results_starts_at > now,
                               Campaign.results_starts_at <= now + REMIND_BEFORE_CLOSE)
        .order_by(Campaign.id)).scalars().all()
    sent = 0
    for campaign in campaigns:
        if campaign.phase(now) is not Phase.VOTE:
            continue
        voted = exists().where(VoteParticipation.envelope_id == BallotDraft.envelope_id,
                               VoteParticipation.user_id == BallotDraft.user_id)
        drafts = db.session.execute(
            select(BallotDraft).join(Envelope, Envelope.id == BallotDraft.envelope_id)
            .where(Envelope.campaign_id == campaign.id, BallotDraft.reminded_at.is_(None),
                   BallotDraft.choices != "", ~voted)
            .order_by(BallotDraft.user_id, BallotDraft.envelope_id)).scalars().all()
        claimed: dict[int, list[Envelope]] = defaultdict(list)
        for draft in drafts:
            won = db.session.execute(
                update(BallotDraft).where(BallotDraft.id == draft.id,
                                          BallotDraft.reminded_at.is_(None))
                .values(reminded_at=now).execution_options(synchronize_session=False)
            ).rowcount
            if won == 1:
                claimed[draft.user_id].append(draft.envelope)
        for user_id, envelopes in claimed.items():
            user = db.session.get(User, user_id)
            if user is None or not user.email or user.deleted_at is not None:
                continue
            _remind(user, campaign, envelopes)
            sent += 1
    db.session.flush()
    return sent


def _remind(user: User, campaign: Campaign, envelopes: list[Envelope]) -> None:
    locale = user.locale or current_app.config["BABEL_DEFAULT_LOCALE"]
    link = _link(campaign.id)
    with force_locale(locale):
        names = ", ".join(e.quartier.label if e.quartier else _("Whole city")
                          for e in envelopes)
        closes = format_datetime(campaign.results_starts_at, "d MMMM y, HH:mm")
        subject = _("Your vote is not confirmed yet: %(campaign)s", campaign=campaign.title)
        body = _("Hello %(name)s,\n\nYou started a ballot for “%(campaign)s” (%(envelopes)s) "
                 "but did not confirm it: it does not count yet. The vote closes on "
                 "%(date)s.\n\nTo review and confirm your ballot:\n%(link)s\n\nThis is the "
                 "only reminder you will get.", name=user.display_name,
                 campaign=campaign.title, envelopes=names, date=closes, link=link)
    send_email(user.email, subject, body)
