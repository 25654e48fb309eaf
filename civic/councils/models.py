"""Councils' collèges and members, volunteers and draws, meetings, avis and questions.

The council itself is ``civic.territory.models.Council`` (the ``council_member`` role is
scoped to it); this module adds what the loi Lamy and its cadre de référence describe.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

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


# --- the yearly programming cycle --------------------------------------------------------


class Decision(enum.Enum):
    """The steering committee's decision on an application to a call for projects."""

    SELECTED = "selected"  # retenue
    NOT_SELECTED = "not_selected"  # non retenue

    @property
    def title(self) -> str:
        """Translated name."""
        return str(DECISION_TITLES[self])


DECISION_TITLES = {Decision.SELECTED: _l("Selected"), Decision.NOT_SELECTED: _l("Not selected")}


class Outcome(enum.Enum):
    """What the yearly evaluation decides for an action."""

    CONTINUE = "continue"
    EVOLVE = "evolve"
    REPLACE = "replace"
    STOP = "stop"

    @property
    def title(self) -> str:
        """Translated name."""
        return str(OUTCOME_TITLES[self])


OUTCOME_TITLES = {Outcome.CONTINUE: _l("Continue"), Outcome.EVOLVE: _l("Evolve"),
                  Outcome.REPLACE: _l("Replace"), Outcome.STOP: _l("Stop")}


class ProjectCall(db.Model):
    """A yearly call for action proposals (appel à projets) of a plan."""

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id", ondelete="CASCADE"), index=True)
    year: Mapped[int]
    title: Mapped[str] = mapped_column(String(255))
    # Published criteria, one per line (Porte du Hainaut: the four innovation criteria).
    criteria: Mapped[str] = mapped_column(Text)
    # Highest share of the budget the call may co-finance (the seed: up to 80 %).
    max_cofinancing_percent: Mapped[int] = mapped_column(default=80)
    closes_on: Mapped[date]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    plan: Mapped[Any] = relationship("Plan")
    applications: Mapped[list[CallApplication]] = relationship(
        back_populates="call", order_by="CallApplication.id", cascade="all, delete-orphan")

    __table_args__ = (UniqueConstraint("plan_id", "year", name="uq_project_call_year"),)

    @property
    def criteria_list(self) -> list[str]:
        """Criteria, one per line."""
        return [c.strip() for c in self.criteria.splitlines() if c.strip()]


class CallApplication(db.Model):
    """An application by a porteur (association, service) to a call for projects."""

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(
        ForeignKey("project_call.id", ondelete="CASCADE"), index=True)
    applicant_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    porteur: Mapped[str] = mapped_column(String(160))
    title: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text)
    quartier_id: Mapped[int | None] = mapped_column(ForeignKey("quartier.id"), index=True)
    budget_cents: Mapped[int]
    requested_cents: Mapped[int]
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    decision: Mapped[Decision | None] = mapped_column(_enum(Decision))
    decision_reasons: Mapped[str] = mapped_column(Text, default="")
    # Who sat on the steering committee, council delegates included.
    committee: Mapped[str] = mapped_column(Text, default="")
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    call: Mapped[ProjectCall] = relationship(back_populates="applications")
    quartier: Mapped[Any] = relationship("Quartier")
    avis: Mapped[list[ApplicationAvis]] = relationship(
        back_populates="application", order_by="ApplicationAvis.at",
        cascade="all, delete-orphan")

    @property
    def cofinancing_percent(self) -> float:
        """Requested share of the budget, in percent."""
        return 100 * self.requested_cents / self.budget_cents if self.budget_cents else 0.0


class ApplicationAvis(db.Model):
    """A council's avis on an application (one per council, updated in place)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("call_application.id", ondelete="CASCADE"), index=True)
    council_id: Mapped[int] = mapped_column(ForeignKey("council.id", ondelete="CASCADE"))
    opinion: Mapped[Opinion] = mapped_column(_enum(Opinion))
    text: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(default=utcnow)

    application: Mapped[CallApplication] = relationship(back_populates="avis")
    council: Mapped[Council] = relationship()

    __table_args__ = (UniqueConstraint("application_id", "council_id",
                                       name="uq_application_avis_council"),)


class EvaluationDecision(db.Model):
    """The yearly evaluation's decision on an action, with the councils' avis beside it."""

    id: Mapped[int] = mapped_column(primary_key=True)
    node_id: Mapped[int] = mapped_column(
        ForeignKey("plan_node.id", ondelete="CASCADE"), index=True)
    year: Mapped[int]
    outcome: Mapped[Outcome] = mapped_column(_enum(Outcome))
    replaced_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("plan_node.id", ondelete="SET NULL"))
    reasons: Mapped[str] = mapped_column(Text)
    decided_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    node: Mapped[PlanNode] = relationship(foreign_keys=[node_id])
    replaced_by: Mapped[PlanNode | None] = relationship(foreign_keys=[replaced_by_id])

    __table_args__ = (UniqueConstraint("node_id", "year", name="uq_evaluation_decision_year"),)
