"""Councils' collèges and members, volunteers and draws, meetings, avis and questions.

The council itself is ``civic.territory.models.Council`` (the ``council_member`` role is
scoped to it); this module adds what the loi Lamy and its cadre de référence describe.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from civic.actionplan.models import PlanNode
from civic.extensions import db
from civic.territory.models import Council
from civic.timeutil import utcnow


def _enum(cls: type[enum.Enum], length: int = 20):  # noqa: ANN202
    return db.Enum(cls, native_enum=False, length=length,
                   values_callable=lambda e: [m.value for m in e])


class College(enum.Enum):
    """The two collèges of a conseil citoyen (loi n° 2014-173, art. 7)."""

    HABITANTS = "habitants"
    ASSOCIATIONS = "associations"

    @property
    def title(self) -> str:
        """Translated name."""
        return str(COLLEGE_TITLES[self])


COLLEGE_TITLES = {
    College.HABITANTS: _l("Residents"),
    College.ASSOCIATIONS: _l("Associations and local actors"),
}


class Opinion(enum.Enum):
    """A council's avis on an action."""

    FAVOURABLE = "favourable"
    RESERVED = "reserved"
    UNFAVOURABLE = "unfavourable"

    @property
    def title(self) -> str:
        """Translated name."""
        return str(OPINION_TITLES[self])


OPINION_TITLES = {
    Opinion.FAVOURABLE: _l("Favourable"),
    Opinion.RESERVED: _l("Reserved"),
    Opinion.UNFAVOURABLE: _l("Unfavourable"),
}


class CouncilMember(db.Model):
    """A member of a council, in one collège, for a term; only the published name is public."""

    id: Mapped[int] = mapped_column(primary_key=True)
    council_id: Mapped[int] = mapped_column(
        ForeignKey("council.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL"), index=True)
    published_name: Mapped[str] = mapped_column(String(80))
    # For the associations collège: the association or local actor represented.
    organisation: Mapped[str] = mapped_column(String(160), default="")
    college: Mapped[College] = mapped_column(_enum(College))
    # female / male / other; used only for the parity check, never published per person.
    gender: Mapped[str | None] = mapped_column(String(10))
    draw_id: Mapped[int | None] = mapped_column(
        ForeignKey("council_draw.id", ondelete="SET NULL"), index=True)
    term_start: Mapped[date]
    term_end: Mapped[date | None]

    council: Mapped[Council] = relationship(
        backref=backref("members", cascade="all, delete-orphan", passive_deletes=True,
                        order_by="CouncilMember.published_name"))

    def is_current(self, today: date) -> bool:
        """True while the term runs."""
        return self.term_start <= today and (self.term_end is None or today <= self.term_end)


class Volunteer(db.Model):
    """A resident who applied to be drawn for a council's habitants collège."""

    id: Mapped[int] = mapped_column(primary_key=True)
    council_id: Mapped[int] = mapped_column(
        ForeignKey("council.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    published_name: Mapped[str] = mapped_column(String(80))
    gender: Mapped[str] = mapped_column(String(10))
    birth_year: Mapped[int | None]
    applied_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Set when the volunteer was drawn (they then also have a CouncilMember row).
    drawn_in_id: Mapped[int | None] = mapped_column(
        ForeignKey("council_draw.id", ondelete="SET NULL"))

    council: Mapped[Council] = relationship()

    __table_args__ = (UniqueConstraint("council_id", "user_id", name="uq_volunteer_user"),)


class CouncilDraw(db.Model):
    """A draw by lot: its seed and public report (volunteer numbers, never names)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    council_id: Mapped[int] = mapped_column(
        ForeignKey("council.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    seed: Mapped[str] = mapped_column(String(120))
    seats: Mapped[int]
    age_bands: Mapped[str] = mapped_column(String(120), default="")
    # JSON: {"quotas": {...}, "volunteers": {stratum: [numbers]}, "drawn": {stratum: [...]}}
    report_json: Mapped[str] = mapped_column(Text)

    council: Mapped[Council] = relationship()
    members: Mapped[list[CouncilMember]] = relationship(
        foreign_keys=[CouncilMember.draw_id], order_by="CouncilMember.id")


class Meeting(db.Model):
    """A council meeting: agenda, convocation, attendance and minutes."""

    id: Mapped[int] = mapped_column(primary_key=True)
    council_id: Mapped[int] = mapped_column(
        ForeignKey("council.id", ondelete="CASCADE"), index=True)
    starts_at: Mapped[datetime] = mapped_column(index=True)  # UTC
    duration_minutes: Mapped[int] = mapped_column(default=120)
    location: Mapped[str] = mapped_column(String(255))
    agenda: Mapped[str] = mapped_column(Text)
    convened_at: Mapped[datetime | None]
    minutes: Mapped[str] = mapped_column(Text, default="")
    # Minutes are public only once the council has approved them.
    minutes_approved_at: Mapped[datetime | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    council: Mapped[Council] = relationship()
    attendance: Mapped[list[Attendance]] = relationship(
        back_populates="meeting", cascade="all, delete-orphan")


class Attendance(db.Model):
    """Whether a member attended a meeting."""

    meeting_id: Mapped[int] = mapped_column(
        ForeignKey("meeting.id", ondelete="CASCADE"), primary_key=True)
    member_id: Mapped[int] = mapped_column(
        ForeignKey("council_member.id", ondelete="CASCADE"), primary_key=True)
    present: Mapped[bool] = mapped_column(default=False)
    meeting: Mapped[Meeting] = relationship(back_populates="attendance")
    member: Mapped[CouncilMember] = relationship()


class CouncilAvis(db.Model):
    """A council's avis on an action (one per council and action, updated in place)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    council_id: Mapped[int] = mapped_column(
        ForeignKey("council.id", ondelete="CASCADE"), index=True)
    node_id: Mapped[int] = mapped_column(
        ForeignKey("plan_node.id", ondelete="CASCADE"), index=True)
    opinion: Mapped[Opinion] = mapped_column(_enum(Opinion))
    rating: Mapped[int]  # 1 to 5
    text: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(default=utcnow)

    council: Mapped[Council] = relationship()
    node: Mapped[PlanNode] = relationship()

    __table_args__ = (UniqueConstraint("council_id", "node_id", name="uq_council_avis_node"),)


class CouncilQuestion(db.Model):
    """A council's question on an action, answered in the app for the porteur."""

    id: Mapped[int] = mapped_column(primary_key=True)
    council_id: Mapped[int] = mapped_column(
        ForeignKey("council.id", ondelete="CASCADE"), index=True)
    node_id: Mapped[int] = mapped_column(
        ForeignKey("plan_node.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text)
    asked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    asked_at: Mapped[datetime] = mapped_column(default=utcnow)
    answer: Mapped[str] = mapped_column(Text, default="")
    answered_at: Mapped[datetime | None]
    answered_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL"))

    council: Mapped[Council] = relationship()
    node: Mapped[PlanNode] = relationship()
