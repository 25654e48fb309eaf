"""Network members, interlocutors, referrals, conciergerie requests and the access log.

Columns ending in ``_enc`` hold Fernet tokens (see crypto.py), never plaintext; everything
else is what statistics need and may be kept after the purge.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, ForeignKey, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from civic.accounts.models import User
from civic.extensions import db
from civic.territory.models import Quartier
from civic.timeutil import utcnow

interlocutor_quartier = Table(
    "interlocutor_quartier",
    db.metadata,
    Column("interlocutor_id", ForeignKey("interlocutor.id", ondelete="CASCADE"),
           primary_key=True),
    Column("quartier_id", ForeignKey("quartier.id", ondelete="CASCADE"), primary_key=True),
)


class NetworkMember(db.Model):
    """A person's application to the network, then their membership (one per account)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), unique=True)
    member_type: Mapped[str] = mapped_column(String(20))
    quartier_id: Mapped[int] = mapped_column(ForeignKey("quartier.id"), index=True)
    languages: Mapped[str] = mapped_column(String(200), default="")
    availability: Mapped[str] = mapped_column(String(300), default="")
    # Need codes, comma-separated with a leading and trailing comma (",isolement,sante,").
    topics: Mapped[str] = mapped_column(String(255), default=",")
    charter_version: Mapped[str] = mapped_column(String(20))
    charter_signed_at: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[str] = mapped_column(String(20), default="candidate", index=True)
    applied_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    quartier: Mapped[Quartier] = relationship()

    @property
    def topic_list(self) -> list[str]:
        """Need codes the member knows about."""
        return [t for t in self.topics.split(",") if t]


class Interlocutor(db.Model):
    """An organisation people can be referred to (CCAS, mission locale, association…)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(160), unique=True)
    kind: Mapped[str] = mapped_column(String(30))
    topics: Mapped[str] = mapped_column(String(255), default=",")
    opening_hours: Mapped[str] = mapped_column(Text, default="")
    languages: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    address: Mapped[str] = mapped_column(String(300), default="")
    how_to_refer: Mapped[str] = mapped_column(Text, default="")
    # Shown in the public directory only when the organisation agreed to it.
    is_public: Mapped[bool] = mapped_column(default=False)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    # No quartier at all means the organisation serves the whole territory.
    quartiers: Mapped[list[Quartier]] = relationship(secondary=interlocutor_quartier,
                                                     order_by="Quartier.name")

    @property
    def topic_list(self) -> list[str]:
        """Need codes the organisation handles."""
        return [t for t in self.topics.split(",") if t]


class Referral(db.Model):
    """A signalement: someone needs to be contacted. Only what the follow-up needs."""

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    origin: Mapped[str] = mapped_column(String(20))
    quartier_id: Mapped[int] = mapped_column(ForeignKey("quartier.id"), index=True)
    need: Mapped[str] = mapped_column(String(30), index=True)
    urgency: Mapped[str] = mapped_column(String(10), default="normal")
    consent: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(20), default="signale", index=True)
    status_changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    contacted_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(20))
    coordinator_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    interlocutor_id: Mapped[int | None] = mapped_column(ForeignKey("interlocutor.id"),
                                                        index=True)
    reminded_at: Mapped[datetime | None]
    purged_at: Mapped[datetime | None]
    # Encrypted personal fields (Fernet tokens); None once purged.
    person_name_enc: Mapped[str | None] = mapped_column(Text)
    contact_enc: Mapped[str | None] = mapped_column(Text)
    note_enc: Mapped[str | None] = mapped_column(Text)

    quartier: Mapped[Quartier] = relationship()
    author: Mapped[User | None] = relationship(foreign_keys=[author_id])
    coordinator: Mapped[User | None] = relationship(foreign_keys=[coordinator_id])
    interlocutor: Mapped[Interlocutor | None] = relationship()
    transitions: Mapped[list[ReferralTransition]] = relationship(
        back_populates="referral", order_by="ReferralTransition.id",
        cascade="all, delete-orphan")


class _Step:
    """The columns of one dated, attributed step of a pipeline (referral or conciergerie
    request): who moved it, from which status to which, to whom, with what outcome."""

    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    interlocutor_id: Mapped[int | None] = mapped_column(ForeignKey("interlocutor.id"))
    outcome: Mapped[str | None] = mapped_column(String(20))

    @declared_attr
    def actor(cls) -> Mapped[User | None]:  # noqa: N805
        return relationship(User)

    @declared_attr
    def interlocutor(cls) -> Mapped[Interlocutor | None]:  # noqa: N805
        return relationship("Interlocutor")


class ReferralTransition(_Step, db.Model):
    """One dated, attributed step of a referral's pipeline."""

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referral.id", ondelete="CASCADE"),
                                             index=True)

    referral: Mapped[Referral] = relationship(back_populates="transitions")


class JobRequest(db.Model):
    """A conciergerie de l'emploi request: a barrier stands between a person and a job."""

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    opener: Mapped[str] = mapped_column(String(30))
    opener_interlocutor_id: Mapped[int | None] = mapped_column(ForeignKey("interlocutor.id"))
    quartier_id: Mapped[int] = mapped_column(ForeignKey("quartier.id"), index=True)
    barrier: Mapped[str] = mapped_column(String(20), index=True)
    position_kind: Mapped[str] = mapped_column(String(10), default="job")
    start_date: Mapped[date]
    consent: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(20), default="ouverte", index=True)
    status_changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    first_answer_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(20))
    coordinator_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    interlocutor_id: Mapped[int | None] = mapped_column(ForeignKey("interlocutor.id"))
    purged_at: Mapped[datetime | None]
    reminded_at: Mapped[datetime | None]  # last reminder while at risk (once per status)
    person_name_enc: Mapped[str | None] = mapped_column(Text)
    contact_enc: Mapped[str | None] = mapped_column(Text)
    note_enc: Mapped[str | None] = mapped_column(Text)

    quartier: Mapped[Quartier] = relationship()
    author: Mapped[User | None] = relationship(foreign_keys=[author_id])
    coordinator: Mapped[User | None] = relationship(foreign_keys=[coordinator_id])
    interlocutor: Mapped[Interlocutor | None] = relationship(foreign_keys=[interlocutor_id])
    opener_interlocutor: Mapped[Interlocutor | None] = relationship(
        foreign_keys=[opener_interlocutor_id])
    offers: Mapped[list[JobOffer]] = relationship(
        back_populates="request", order_by="JobOffer.id", cascade="all, delete-orphan")
    transitions: Mapped[list[JobTransition]] = relationship(
        back_populates="request", order_by="JobTransition.id", cascade="all, delete-orphan")


class JobOffer(db.Model):
    """A request offered to a professional who may hold the key; they accept or decline."""

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("job_request.id", ondelete="CASCADE"),
                                            index=True)
    interlocutor_id: Mapped[int] = mapped_column(ForeignKey("interlocutor.id"), index=True)
    offered_at: Mapped[datetime] = mapped_column(default=utcnow)
    offered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    answer: Mapped[str] = mapped_column(String(10), default="pending")
    answered_at: Mapped[datetime | None]
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    request: Mapped[JobRequest] = relationship(back_populates="offers")
    interlocutor: Mapped[Interlocutor] = relationship()

    __table_args__ = (UniqueConstraint("request_id", "interlocutor_id"),)


class JobTransition(_Step, db.Model):
    """One dated, attributed step of a conciergerie request."""

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("job_request.id", ondelete="CASCADE"),
                                            index=True)

    request: Mapped[JobRequest] = relationship(back_populates="transitions")


class StatisticsRelease(db.Model):
    """The network statistics of one period as published: suppressed counts only (never a
    count under the threshold, never a name), frozen so that what a council or the open-data
    API once read cannot change behind its back when a referral is later updated. A
    coordinator may publish a revision; every revision is kept."""

    id: Mapped[int] = mapped_column(primary_key=True)
    period_start: Mapped[date]
    period_end: Mapped[date]
    revision: Mapped[int] = mapped_column(default=1)
    published_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    payload: Mapped[str] = mapped_column(Text)  # canonical JSON of the published tables

    __table_args__ = (UniqueConstraint("period_start", "period_end", "revision",
                                       name="uq_statistics_release"),)


class AccessLogEntry(db.Model):
    """Who read or changed a referral or a conciergerie request, or was refused (never what).

    Kept after the purge: it holds no personal data about the person concerned, and it is
    what they can be shown when they ask who looked at their file (RGPD art. 15).
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    subject_kind: Mapped[str] = mapped_column(String(20))
    subject_id: Mapped[int] = mapped_column(index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    action: Mapped[str] = mapped_column(String(30))
    detail: Mapped[str] = mapped_column(String(200), default="")

    actor: Mapped[User | None] = relationship()
