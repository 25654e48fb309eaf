"""Users, role grants, the audit log and the assisted-participation log."""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from civic.extensions import db
from civic.territory.models import Quartier
from civic.timeutil import utcnow


class User(UserMixin, db.Model):
    """A person with an account: resident, staff, or both."""

    id: Mapped[int] = mapped_column(primary_key=True)
    # Nullable: a resident registered at a counter may have no email address.
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(80))
    quartier_id: Mapped[int | None] = mapped_column(ForeignKey("quartier.id"), index=True)
    birth_year: Mapped[int | None]
    # Optional; used only for council parity and anonymous statistics.
    gender: Mapped[str | None] = mapped_column(String(10))
    locale: Mapped[str | None] = mapped_column(String(5))
    email_confirmed_at: Mapped[datetime | None]
    residency_verified_at: Mapped[datetime | None]
    residency_method: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    deleted_at: Mapped[datetime | None]
    # Bumped at logout and password change: every older session cookie stops working.
    session_epoch: Mapped[int] = mapped_column(default=0)
    last_login_at: Mapped[datetime | None]

    quartier: Mapped[Quartier | None] = relationship()
    grants: Mapped[list[RoleGrant]] = relationship(
        back_populates="user", foreign_keys="RoleGrant.user_id", cascade="all, delete-orphan"
    )

    def get_id(self) -> str:
        """Flask-Login identifier, tied to the session epoch."""
        return f"{self.id}.{self.session_epoch}"

    @property
    def is_active(self) -> bool:  # type: ignore[override]
        """Deleted accounts cannot log in."""
        return self.deleted_at is None

    @property
    def is_verified(self) -> bool:
        """Residency verified (census import or in person)."""
        return self.residency_verified_at is not None

    @property
    def role_names(self) -> set[str]:
        """Names of the roles held (resident is implicit for every active account)."""
        return {"resident"} | {g.role for g in self.grants}

    def has_role(self, role: str, scope_id: int | None = None) -> bool:
        """True if the user holds the role (in the given scope, when one is given)."""
        if role == "resident":
            return True
        return any(
            g.role == role and (scope_id is None or g.scope_id == scope_id) for g in self.grants
        )

    def scopes(self, role: str) -> list[int]:
        """Scope ids of the grants of a scoped role."""
        return [g.scope_id for g in self.grants if g.role == role and g.scope_id is not None]


class RoleGrant(db.Model):
    """A role held by a user, optionally scoped (agent → service, member → council)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(40))
    scope_id: Mapped[int | None]
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    granted_at: Mapped[datetime] = mapped_column(default=utcnow)
    user: Mapped[User] = relationship(back_populates="grants", foreign_keys=[user_id])

    __table_args__ = (UniqueConstraint("user_id", "role", "scope_id", name="uq_role_grant"),)


class AuditEntry(db.Model):
    """An append-only record of a sensitive act (role changes, verifications, moderation)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    action: Mapped[str] = mapped_column(String(60), index=True)
    subject_user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    detail: Mapped[str] = mapped_column(Text, default="")
    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])
    subject: Mapped[User | None] = relationship(foreign_keys=[subject_user_id])


class AssistedAct(db.Model):
    """Something an agent did at a counter on behalf of a resident (both names kept)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    action: Mapped[str] = mapped_column(String(60))
    detail: Mapped[str] = mapped_column(Text, default="")
    agent: Mapped[User | None] = relationship(foreign_keys=[agent_id])
    resident: Mapped[User | None] = relationship(foreign_keys=[resident_id])


class CensusImport(db.Model):
    """One census file imported by a coordinator (the file itself is not kept)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    filename: Mapped[str] = mapped_column(String(255))
    rows: Mapped[int]
    verified_now: Mapped[int]


class CensusEntry(db.Model):
    """A residency attested by a census import, keyed by a keyed hash of the email.

    Only the hash is stored, so the register of residents who have no account yet
    holds no readable address; a later registration with that email is verified.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    email_digest: Mapped[str] = mapped_column(String(64), unique=True)
    quartier_id: Mapped[int] = mapped_column(ForeignKey("quartier.id"))
    birth_year: Mapped[int | None]
    import_id: Mapped[int] = mapped_column(ForeignKey("census_import.id"))


class OutboxMessage(db.Model):
    """An email, stored instead of sent in development and tests (and kept as a log)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    recipient: Mapped[str] = mapped_column(String(254), index=True)
    subject: Mapped[str] = mapped_column(String(255))
    body: Mapped[str] = mapped_column(Text)
    sent: Mapped[bool] = mapped_column(default=False)


Index("ix_audit_entry_actor", AuditEntry.actor_id)
