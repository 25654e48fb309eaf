"""Feasibility reviews: one per (proposal, city service) the coordinator assigned."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import BigInteger, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from civic.budgeting.models import Proposal
from civic.extensions import db
from civic.territory.models import CityService
from civic.timeutil import utcnow


class FeasibilityVerdict(StrEnum):
    """A service's answer."""

    FEASIBLE = "feasible"
    UNFEASIBLE = "unfeasible"
    NEEDS_INFO = "needs_info"

    @property
    def title(self) -> str:
        """Translated name."""
        return str(VERDICT_TITLES[self])


VERDICT_TITLES = {
    FeasibilityVerdict.FEASIBLE: _l("Feasible"),
    FeasibilityVerdict.UNFEASIBLE: _l("Not feasible"),
    FeasibilityVerdict.NEEDS_INFO: _l("To be clarified (question to the author)"),
}


class FeasibilityReview(db.Model):
    """A city service's study of one proposal: verdict, public explanation, cost, notes."""

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id", ondelete="CASCADE"),
                                             index=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("city_service.id"), index=True)
    assigned_at: Mapped[datetime] = mapped_column(default=utcnow)
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    verdict: Mapped[str | None] = mapped_column(String(20))
    public_explanation: Mapped[str] = mapped_column(Text, default="")
    validated_cost_cents: Mapped[int | None] = mapped_column(BigInteger)
    duration_weeks: Mapped[int | None]
    # Never shown to residents nor to agents of other services.
    internal_notes: Mapped[str] = mapped_column(Text, default="")
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    # Set when the coordinator publishes the combined answer; a later question resets it.
    published_at: Mapped[datetime | None]
    # The author's reply to a question (needs_info), shown to the service.
    author_reply: Mapped[str] = mapped_column(Text, default="")

    proposal: Mapped[Proposal] = relationship()
    service: Mapped[CityService] = relationship()

    __table_args__ = (UniqueConstraint("proposal_id", "service_id", name="uq_review_service"),)

    @property
    def verdict_enum(self) -> FeasibilityVerdict | None:
        """The verdict as an enum (None: not decided)."""
        return FeasibilityVerdict(self.verdict) if self.verdict else None
