"""Participatory budget: campaigns, envelopes, themes, proposals and what hangs on them.

Money is integer cents (BigInteger); times are naive UTC (civic.timeutil.utcnow).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from civic.accounts.models import User
from civic.budgeting.states import DATED_PHASES, Phase, ProposalStatus, phase_at
from civic.extensions import db
from civic.territory.models import Quartier
from civic.timeutil import utcnow

BALLOT_FORMATS = ("approval", "knapsack", "cumulative")
COUNTING_RULES = ("greedy", "mes")


class Campaign(db.Model):
    """One participatory-budget cycle (e.g. "Budget participatif 2027")."""

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(160))
    description: Mapped[str] = mapped_column(Text, default="")
    total_cents: Mapped[int] = mapped_column(BigInteger)
    # Eligibility (part 1 uses it for proposing, part 2 for voting).
    min_age: Mapped[int | None]
    require_verified: Mapped[bool] = mapped_column(default=False)
    require_residence: Mapped[bool] = mapped_column(default=True)
    # The ballot and the counting rule, declared before the vote (used by part 2).
    ballot_format: Mapped[str] = mapped_column(String(20), default="approval")
    max_choices: Mapped[int | None]  # approval: how many projects at most
    points_total: Mapped[int | None]  # cumulative: points to share out
    min_projects: Mapped[int | None]  # cumulative: at least this many projects
    counting_rule: Mapped[str] = mapped_column(String(20), default="greedy")
    # The calendar: the start of each phase (UTC). A phase ends when the next one starts.
    information_starts_at: Mapped[datetime]
    submission_starts_at: Mapped[datetime]
    review_starts_at: Mapped[datetime]
    vote_starts_at: Mapped[datetime]
    results_starts_at: Mapped[datetime]
    realisation_starts_at: Mapped[datetime]
    # Set once, by the first tick after the vote opens (claims the work of opening it).
    vote_opened_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    envelopes: Mapped[list[Envelope]] = relationship(
        back_populates="campaign", cascade="all, delete-orphan", order_by="Envelope.id")
    themes: Mapped[list[Theme]] = relationship(
        back_populates="campaign", cascade="all, delete-orphan", order_by="Theme.position")

    @property
    def phase_starts(self) -> list[datetime]:
        """Start of each dated phase, in calendar order."""
        return [getattr(self, f"{p.value}_starts_at") for p in DATED_PHASES]

    def phase(self, now: datetime | None = None) -> Phase:
        """The phase in force now (derived from the clock: no cron needed)."""
        return phase_at(self.phase_starts, now or utcnow())

    @property
    def current_phase(self) -> Phase:
        """The phase in force now."""
        return self.phase()

    @property
    def settings_frozen(self) -> bool:
        """Fairness settings (envelopes, eligibility, ballot, rule) are fixed once the vote
        opens: changing them then would change the rules of a vote under way."""
        return self.phase().index >= Phase.VOTE.index

    def envelope_for(self, quartier_id: int | None) -> Envelope | None:
        """The envelope a proposal for this quartier (None: city-wide) competes in."""
        for envelope in self.envelopes:
            if envelope.quartier_id == quartier_id:
                return envelope
        return None


class Envelope(db.Model):
    """A share of the campaign's money: city-wide (no quartier) or one quartier's."""

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"),
                                             index=True)
    quartier_id: Mapped[int | None] = mapped_column(ForeignKey("quartier.id"))
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    campaign: Mapped[Campaign] = relationship(back_populates="envelopes")
    quartier: Mapped[Quartier | None] = relationship()

    __table_args__ = (UniqueConstraint("campaign_id", "quartier_id", name="uq_envelope_area"),)


class Theme(db.Model):
    """A theme of the campaign (voirie, nature en ville…); linked to action-plan axes later."""

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"),
                                             index=True)
    name: Mapped[str] = mapped_column(String(80))
    position: Mapped[int] = mapped_column(default=0)
    campaign: Mapped[Campaign] = relationship(back_populates="themes")

    __table_args__ = (UniqueConstraint("campaign_id", "name", name="uq_theme_name"),)


class Proposal(db.Model):
    """A resident's project for their quartier or the whole city."""

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    # The agent who filed it at a counter for the author (assisted participation).
    filed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    title: Mapped[str] = mapped_column(String(140))
    description: Mapped[str] = mapped_column(Text)
    quartier_id: Mapped[int | None] = mapped_column(ForeignKey("quartier.id"), index=True)
    theme_id: Mapped[int | None] = mapped_column(ForeignKey("theme.id"))
    estimated_cost_cents: Mapped[int] = mapped_column(BigInteger)
    address: Mapped[str] = mapped_column(String(200), default="")
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    rules_accepted_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(20), default=ProposalStatus.DRAFT.value,
                                        index=True)
    # The status to go back to when moderators restore a hidden proposal.
    status_before_hiding: Mapped[str | None] = mapped_column(String(20))
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("proposal.id"))
    # The published answer of the city (one consistent answer, after the coordinator's review).
    answer_public: Mapped[str] = mapped_column(Text, default="")
    validated_cost_cents: Mapped[int | None] = mapped_column(BigInteger)
    duration_weeks: Mapped[int | None]
    answer_published_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    submitted_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    campaign: Mapped[Campaign] = relationship()
    author: Mapped[User] = relationship(foreign_keys=[author_id])
    filed_by: Mapped[User | None] = relationship(foreign_keys=[filed_by_id])
    quartier: Mapped[Quartier | None] = relationship()
    theme: Mapped[Theme | None] = relationship()
    merged_into: Mapped[Proposal | None] = relationship(remote_side=[id])
    images: Mapped[list[ProposalImage]] = relationship(
        back_populates="proposal", cascade="all, delete-orphan", order_by="ProposalImage.id")
    events: Mapped[list[ProposalEvent]] = relationship(
        back_populates="proposal", cascade="all, delete-orphan",
        order_by="ProposalEvent.id")
    coauthors: Mapped[list[ProposalCoauthor]] = relationship(
        back_populates="proposal", cascade="all, delete-orphan",
        foreign_keys="ProposalCoauthor.proposal_id")

    @property
    def state(self) -> ProposalStatus:
        """The status as an enum."""
        return ProposalStatus(self.status)

    @property
    def author_ids(self) -> set[int]:
        """The author and the co-authors (kept when duplicates were merged into it)."""
        return {self.author_id} | {c.user_id for c in self.coauthors}

    @property
    def is_votable(self) -> bool:
        """Feasible, with a published answer and a validated cost: what part 2 puts on the
        ballot."""
        return (self.state in (ProposalStatus.FEASIBLE, ProposalStatus.SELECTED)
                and self.answer_published_at is not None
                and self.validated_cost_cents is not None)


class ProposalCoauthor(db.Model):
    """An author of a duplicate merged into this proposal."""

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    from_proposal_id: Mapped[int | None] = mapped_column(ForeignKey("proposal.id"))
    proposal: Mapped[Proposal] = relationship(back_populates="coauthors",
                                              foreign_keys=[proposal_id])
    user: Mapped[User] = relationship()

    __table_args__ = (UniqueConstraint("proposal_id", "user_id", name="uq_coauthor"),)


class ProposalEvent(db.Model):
    """One status change (the history shown on the proposal's page)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id", ondelete="CASCADE"),
                                             index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    note: Mapped[str] = mapped_column(Text, default="")  # public
    proposal: Mapped[Proposal] = relationship(back_populates="events")


class ProposalImage(db.Model):
    """An image of a proposal, re-encoded without metadata, stored under instance/uploads."""

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id", ondelete="CASCADE"),
                                             index=True)
    token: Mapped[str] = mapped_column(String(40), unique=True)  # file name stem
    alt_text: Mapped[str] = mapped_column(String(200), default="")
    width: Mapped[int]
    height: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    proposal: Mapped[Proposal] = relationship(back_populates="images")


class ProposalFollow(db.Model):
    """A resident following a proposal (notified of its changes)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id", ondelete="CASCADE"),
                                             index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("proposal_id", "user_id", name="uq_follow"),)


class ProposalComment(db.Model):
    """A resident's public comment on a proposal (moderators may hide it, with a reason)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id", ondelete="CASCADE"),
                                             index=True)
    # Indexed: the posting throttle counts a person's comments of the last minute.
    author_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    body: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    # Set when a moderator hides the comment: its text is then served to moderators only.
    hidden_at: Mapped[datetime | None]
    hidden_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    hidden_reason: Mapped[str | None] = mapped_column(String(20))  # a CommentReason value
    author: Mapped[User] = relationship(foreign_keys=[author_id])
    proposal: Mapped[Proposal] = relationship()

    @property
    def is_hidden(self) -> bool:
        """True once a moderator has hidden it (and until it is restored)."""
        return self.hidden_at is not None


class CommentReport(db.Model):
    """A resident's report that a comment breaks the rules (one per resident and comment)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(
        ForeignKey("proposal_comment.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    reason: Mapped[str] = mapped_column(String(20))  # a CommentReason value
    details: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(default=utcnow)
    # Closed by a moderator's decision: "hidden" or "dismissed" (kept online).
    resolved_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(20))
    comment: Mapped[ProposalComment] = relationship()
    user: Mapped[User] = relationship()

    __table_args__ = (UniqueConstraint("comment_id", "user_id", name="uq_comment_report"),)


class ProposalFlag(db.Model):
    """A resident's report that a proposal breaks the rules (one per resident)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id", ondelete="CASCADE"),
                                             index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    reason: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None]

    __table_args__ = (UniqueConstraint("proposal_id", "user_id", name="uq_flag"),)


class Notification(db.Model):
    """An in-app notification, written in the recipient's language when it was sent."""

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    message: Mapped[str] = mapped_column(Text)
    link: Mapped[str] = mapped_column(String(300), default="")
    read_at: Mapped[datetime | None]


__all__ = ["BALLOT_FORMATS", "COUNTING_RULES"]
