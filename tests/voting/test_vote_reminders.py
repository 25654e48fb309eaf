"""The one reminder before the close: who gets it, when, in which language, and only once."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from civic.extensions import db
from civic.territory.models import Quartier
from civic.voting import services as vote
from civic.voting.models import BallotDraft
from civic.voting.reminders import send_vote_reminders
from tests.conftest import make_user, outbox
from tests.voting.factories import make_vote


def _reminders(recipient: str | None = None) -> list:
    """Reminder emails in the outbox (the factories also send confirmations and notices)."""
    return [m for m in outbox(recipient) if "/vote" in m.body and "confirm" in m.body]


def _drafts(s):  # noqa: ANN001, ANN202
    """The voter drafts both envelopes; a second resident drafts and then votes; a third
    (English-speaking) drafts the city; a fourth saved an empty draft."""
    vote.save_draft(s.voter, s.city, {s.city_options[0].id: 1})
    vote.save_draft(s.voter, s.quartier, {s.quartier_options[0].id: 1})
    voted = make_user("a-vote@example.org", quartier=db.session.get(Quartier,
                                                                    s.voter.quartier_id))
    vote.save_draft(voted, s.city, {s.city_options[1].id: 1})
    vote.cast_ballot(voted, s.city, {s.city_options[1].id: 1})
    english = make_user("english@example.org", locale="en")
    vote.save_draft(english, s.city, {s.city_options[2].id: 1})
    empty = make_user("vide@example.org")
    vote.save_draft(empty, s.city, {})
    db.session.commit()


def test_one_reminder_in_the_last_48_hours_in_the_residents_language(ctx):
    s = make_vote()
    _drafts(s)
    closes = s.campaign.results_starts_at
    assert send_vote_reminders(closes - timedelta(hours=72)) == 0  # too early
    assert _reminders() == []
    assert send_vote_reminders(closes - timedelta(hours=30)) == 2
    db.session.commit()
    mine = _reminders("votante@example.org")
    assert len(mine) == 1  # one email for both envelopes
    assert "pas encore confirmé" in mine[0].subject
    assert "Toute la ville" in mine[0].body and "Faubourg Duchâteau" in mine[0].body
    assert f"/budget-participatif/campagnes/{s.campaign.id}/vote" in mine[0].body
    english = _reminders("english@example.org")
    assert len(english) == 1 and "not confirmed yet" in english[0].subject
    assert _reminders("a-vote@example.org") == [] and _reminders("vide@example.org") == []
    reminded = db.session.execute(select(BallotDraft).where(
        BallotDraft.user_id == s.voter.id)).scalars().all()
    assert all(d.reminded_at is not None for d in reminded)
    # idempotent: later runs (cron every hour) send nothing more, even after a new draft
    vote.save_draft(s.voter, s.city, {s.city_options[1].id: 1})
    assert send_vote_reminders(closes - timedelta(hours=2)) == 0
    assert len(_reminders()) == 2


def test_no_reminder_after_the_close(ctx):
    s = make_vote()
    _drafts(s)
    assert send_vote_reminders(s.campaign.results_starts_at + timedelta(minutes=1)) == 0
    assert _reminders() == []


def test_cli_remind_and_tick(app, runner):
    with app.app_context():
        s = make_vote()
        _drafts(s)
        # the vote closes in 24 hours
        s.campaign.results_starts_at = vote.utcnow() + timedelta(hours=24)
        s.campaign.realisation_starts_at = vote.utcnow() + timedelta(days=30)
        db.session.commit()
    result = runner.invoke(args=["budget", "tick"])
    assert result.exit_code == 0 and "vote reminders sent: 2" in result.output
    result = runner.invoke(args=["budget", "remind"])
    assert result.exit_code == 0 and "vote reminders sent: 0" in result.output
    with app.app_context():
        assert len(_reminders()) == 2
