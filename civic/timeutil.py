"""Time helpers: times are stored in UTC (naive in SQLite, so we normalise)."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Current time in UTC, without tzinfo (stored as such in every database)."""
    return datetime.now(UTC).replace(tzinfo=None)
