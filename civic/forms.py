"""Shared form pieces: choices that come from the database, coercion helpers."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from wtforms import SelectField

from civic.extensions import db
from civic.territory.models import Commune, Quartier

MAX_ID = 2**31 - 1  # database integer range: larger values are refused, not overflowed


def digits(text: str) -> bool:
    """Only the digits 0-9 (str.isdigit also accepts "²", which int() refuses)."""
    return text.isascii() and text.isdigit()


def optional_int(value: object) -> int | None:
    """Coerce a select value to int, '' to None; out-of-range ids are a ValueError."""
    if value in (None, "", "None"):
        return None
    number = int(value)  # type: ignore[arg-type]
    if not (0 <= number <= MAX_ID):
        raise ValueError("out of range")
    return number


def quartier_choices(blank_label: str | None = None) -> list[tuple[str, str]]:
    """Quartiers grouped by commune for a select field."""
    rows = db.session.execute(
        select(Quartier, Commune).join(Commune).order_by(Commune.name, Quartier.name)
    ).all()
    choices = [("", blank_label or str(_l("— Choose —")))]
    choices += [(str(q.id), f"{q.name} ({c.name})") for q, c in rows]
    return choices


class QuartierField(SelectField):
    """Select a quartier; the value is the quartier id or None."""

    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
        kwargs.setdefault("coerce", optional_int)
        kwargs.setdefault("validate_choice", False)  # checked by the service
        super().__init__(*args, **kwargs)

    def populate(self) -> None:
        """Load choices from the database (call in the view)."""
        self.choices = quartier_choices()
