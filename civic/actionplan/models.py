"""The action plan as data: plans, their node tree, actions, status history, indicators."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, Float, ForeignKey, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from civic.actionplan.states import ActionStatus, ParticipationStage
from civic.extensions import db
from civic.territory.models import Quartier
from civic.timeutil import utcnow

node_quartier = Table(
    "plan_node_quartier",
    db.metadata,
    Column("node_id", ForeignKey("plan_node.id", ondelete="CASCADE"), primary_key=True),
    Column("quartier_id", ForeignKey("quartier.id", ondelete="CASCADE"), primary_key=True),
)
node_public = Table(
    "plan_node_public",
    db.metadata,
    Column("node_id", ForeignKey("plan_node.id", ondelete="CASCADE"), primary_key=True),
    Column("public_id", ForeignKey("plan_public.id", ondelete="CASCADE"), primary_key=True),
)
node_tag = Table(
    "plan_node_tag",
    db.metadata,
    Column("node_id", ForeignKey("plan_node.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("plan_tag.id", ondelete="CASCADE"), primary_key=True),
)


class Plan(db.Model):
    """A municipal action plan (contrat de ville, projet d'innovation sociale…)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stable identifier from the seed file: re-importing finds the plan by it.
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(255))
    subtitle: Mapped[str | None] = mapped_column(String(255))
    territory: Mapped[str | None] = mapped_column(String(255))
    period_start: Mapped[int | None]
    period_end: Mapped[int | None]
    period_note: Mapped[str | None] = mapped_column(Text)
    # What the source omits or how it was read: shown on the plan's page.
    source_note: Mapped[str] = mapped_column(Text, default="")
    publics_note: Mapped[str | None] = mapped_column(Text)
    # How many actions the source announces (Le Havre: 73, of which it describes 6).
    announced_actions: Mapped[int | None]
    # Kind of the nodes that are actions (status, porteur, indicators): the deepest level.
    action_kind: Mapped[str] = mapped_column(String(40))
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)

    levels: Mapped[list[PlanLevel]] = relationship(
        back_populates="plan", order_by="PlanLevel.position", cascade="all, delete-orphan"
    )
    publics: Mapped[list[PlanPublic]] = relationship(
        back_populates="plan", order_by="PlanPublic.position", cascade="all, delete-orphan"
    )
    tags: Mapped[list[PlanTag]] = relationship(
        back_populates="plan", order_by="PlanTag.position", cascade="all, delete-orphan"
    )
    nodes: Mapped[list[PlanNode]] = relationship(
        back_populates="plan", cascade="all, delete-orphan", order_by="PlanNode.id"
    )

    def level_label(self, kind: str) -> str:
        """Display label of a node kind (the kind itself when it is not declared)."""
        return next((lv.label for lv in self.levels if lv.kind == kind), kind)


class PlanLevel(db.Model):
    """One level of a plan's tree: machine kind and French label (axe, priorité…)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    kind: Mapped[str] = mapped_column(String(40))
    label: Mapped[str] = mapped_column(String(120))
    plan: Mapped[Plan] = relationship(back_populates="levels")

    __table_args__ = (UniqueConstraint("plan_id", "kind", name="uq_plan_level_kind"),)


class PlanPublic(db.Model):
    """A public prioritaire declared by a plan (optionally only for some branches)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(80))
    position: Mapped[int] = mapped_column(default=0)
    label: Mapped[str] = mapped_column(String(255))
    source_text: Mapped[str] = mapped_column(Text, default="")
    # Space-separated node codes; empty means the whole plan.
    scope_codes: Mapped[str] = mapped_column(String(255), default="")
    plan: Mapped[Plan] = relationship(back_populates="publics")

    __table_args__ = (UniqueConstraint("plan_id", "key", name="uq_plan_public_key"),)


class PlanTag(db.Model):
    """A cross-cutting theme any node may carry (never a branch of the tree)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(80))
    position: Mapped[int] = mapped_column(default=0)
    label: Mapped[str] = mapped_column(String(255))
    source_text: Mapped[str] = mapped_column(Text, default="")
    plan: Mapped[Plan] = relationship(back_populates="tags")

    __table_args__ = (UniqueConstraint("plan_id", "key", name="uq_plan_tag_key"),)


class PlanNode(db.Model):
    """A node of a plan's tree, of any depth; nodes of the plan's action level are actions."""

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id", ondelete="CASCADE"), index=True)
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("plan_node.id", ondelete="CASCADE"), index=True
    )
    # The seed key (code, or parent key + #position): what makes imports idempotent.
    key: Mapped[str] = mapped_column(String(120))
    position: Mapped[int] = mapped_column(default=0)
    kind: Mapped[str] = mapped_column(String(40))
    code: Mapped[str | None] = mapped_column(String(40))
    printed_code: Mapped[str | None] = mapped_column(String(60))
    title: Mapped[str] = mapped_column(Text)
    short_title: Mapped[str | None] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    # One expected impact per line (Le Havre's « OBJECTIFS » bullets).
    expected_impact: Mapped[str] = mapped_column(Text, default="")
    note: Mapped[str | None] = mapped_column(Text)
    # Weight in the parent's progress (weighted mean of the children).
    weight: Mapped[int] = mapped_column(default=1)
    # Action fields (used on nodes of the plan's action level).
    porteur: Mapped[str | None] = mapped_column(String(160), index=True)
    partners: Mapped[str] = mapped_column(Text, default="")
    period_start: Mapped[int | None]
    period_end: Mapped[int | None]
    budget_cents: Mapped[int | None]
    status: Mapped[ActionStatus] = mapped_column(
        db.Enum(ActionStatus, native_enum=False, length=20,
                values_callable=lambda e: [m.value for m in e]),
        default=ActionStatus.PLANNED,
    )
    replaced_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("plan_node.id", ondelete="SET NULL")
    )
    # Where the action comes from when another part of the platform created it (a winning
    # participatory-budget project, an application to a call): shown as a link.
    source_url: Mapped[str | None] = mapped_column(String(500))

    plan: Mapped[Plan] = relationship(back_populates="nodes")
    parent: Mapped[PlanNode | None] = relationship(
        back_populates="children", remote_side=[id], foreign_keys=[parent_id]
    )
    children: Mapped[list[PlanNode]] = relationship(
        back_populates="parent", order_by="PlanNode.position", foreign_keys=[parent_id]
    )
    replaced_by: Mapped[PlanNode | None] = relationship(
        remote_side=[id], foreign_keys=[replaced_by_id]
    )
    quartiers: Mapped[list[Quartier]] = relationship(
        secondary=node_quartier, order_by="Quartier.name"
    )
    publics: Mapped[list[PlanPublic]] = relationship(
        secondary=node_public, order_by="PlanPublic.position"
    )
    tags: Mapped[list[PlanTag]] = relationship(secondary=node_tag, order_by="PlanTag.position")
    history: Mapped[list[StatusChange]] = relationship(
        back_populates="node", order_by="StatusChange.at", cascade="all, delete-orphan"
    )
    indicators: Mapped[list[Indicator]] = relationship(
        back_populates="node", order_by="Indicator.id", cascade="all, delete-orphan"
    )
    participations: Mapped[list[Participation]] = relationship(
        back_populates="node", order_by="(Participation.held_on, Participation.id)",
        cascade="all, delete-orphan",
    )

    __table_args__ = (UniqueConstraint("plan_id", "key", name="uq_plan_node_key"),)

    @property
    def is_action(self) -> bool:
        """True for nodes of the plan's action level (they carry a status)."""
        return self.kind == self.plan.action_kind

    @property
    def level_label(self) -> str:
        """The French label of this node's level."""
        return self.plan.level_label(self.kind)

    @property
    def impacts(self) -> list[str]:
        """Expected impacts, one per line."""
        return [line for line in self.expected_impact.splitlines() if line.strip()]

    @property
    def partner_list(self) -> list[str]:
        """Partners, one per line."""
        return [line.strip() for line in self.partners.splitlines() if line.strip()]


class StatusChange(db.Model):
    """A dated entry in an action's timeline: who changed its status, to what, and why."""

    id: Mapped[int] = mapped_column(primary_key=True)
    node_id: Mapped[int] = mapped_column(
        ForeignKey("plan_node.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    actor_name: Mapped[str] = mapped_column(String(80), default="")
    from_status: Mapped[str] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text, default="")
    node: Mapped[PlanNode] = relationship(back_populates="history")

    @property
    def to(self) -> ActionStatus:
        """The new status as an enum member."""
        return ActionStatus(self.to_status)

    @property
    def previous(self) -> ActionStatus:
        """The former status as an enum member."""
        return ActionStatus(self.from_status)


class Indicator(db.Model):
    """A measure of an action's effect: unit, baseline and source; values per year."""

    id: Mapped[int] = mapped_column(primary_key=True)
    node_id: Mapped[int] = mapped_column(
        ForeignKey("plan_node.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(255))
    unit: Mapped[str] = mapped_column(String(40))
    baseline: Mapped[float | None] = mapped_column(Float)
    baseline_year: Mapped[int | None]
    source: Mapped[str] = mapped_column(String(255), default="")
    node: Mapped[PlanNode] = relationship(back_populates="indicators")
    values: Mapped[list[IndicatorValue]] = relationship(
        back_populates="indicator", order_by="IndicatorValue.year", cascade="all, delete-orphan"
    )
    breakdowns: Mapped[list[IndicatorBreakdown]] = relationship(
        back_populates="indicator", order_by="(IndicatorBreakdown.year, IndicatorBreakdown.id)",
        cascade="all, delete-orphan",
    )


class IndicatorValue(db.Model):
    """One year of an indicator: the target and, once known, the measured value."""

    id: Mapped[int] = mapped_column(primary_key=True)
    indicator_id: Mapped[int] = mapped_column(
        ForeignKey("indicator.id", ondelete="CASCADE"), index=True
    )
    year: Mapped[int]
    target: Mapped[float | None] = mapped_column(Float)
    measured: Mapped[float | None] = mapped_column(Float)
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    indicator: Mapped[Indicator] = relationship(back_populates="values")

    __table_args__ = (UniqueConstraint("indicator_id", "year", name="uq_indicator_value_year"),)


class IndicatorBreakdown(db.Model):
    """One year of an indicator for one public prioritaire of the plan (target, measured).

    Kept apart from IndicatorValue: the whole-population value drives progress and the
    councils' dashboards; the breakdown says for whom the action worked.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    indicator_id: Mapped[int] = mapped_column(
        ForeignKey("indicator.id", ondelete="CASCADE"), index=True
    )
    public_id: Mapped[int] = mapped_column(ForeignKey("plan_public.id", ondelete="CASCADE"))
    year: Mapped[int]
    target: Mapped[float | None] = mapped_column(Float)
    measured: Mapped[float | None] = mapped_column(Float)
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    indicator: Mapped[Indicator] = relationship(back_populates="breakdowns")
    public: Mapped[PlanPublic] = relationship()

    __table_args__ = (UniqueConstraint("indicator_id", "public_id", "year",
                                       name="uq_indicator_breakdown"),)


class Participation(db.Model):
    """What residents did at one stage of an action (début, cœur, fin), when, how many."""

    __tablename__ = "plan_participation"

    id: Mapped[int] = mapped_column(primary_key=True)
    node_id: Mapped[int] = mapped_column(
        ForeignKey("plan_node.id", ondelete="CASCADE"), index=True
    )
    stage: Mapped[ParticipationStage] = mapped_column(
        db.Enum(ParticipationStage, native_enum=False, length=10,
                values_callable=lambda e: [m.value for m in e]))
    held_on: Mapped[date]
    participants: Mapped[int]
    description: Mapped[str] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    node: Mapped[PlanNode] = relationship(back_populates="participations")
