"""The audit log: who did what to whom, for acts a city must be able to account for."""

from __future__ import annotations

from typing import Any

from civic.accounts.models import AuditEntry
from civic.extensions import db


def audit(actor: Any, action: str, subject: Any = None, detail: str = "") -> AuditEntry:
    """Append an entry; the caller's transaction commits it with the act itself."""
    entry = AuditEntry(
        actor_id=getattr(actor, "id", None),
        action=action,
        subject_user_id=getattr(subject, "id", None),
        detail=detail,
    )
    db.session.add(entry)
    return entry
