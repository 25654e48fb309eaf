"""viewutil.change(): the one way views commit a service's change or show its refusal."""

from __future__ import annotations

import pytest
from flask import get_flashed_messages
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms import StringField

from civic.extensions import db
from civic.territory.models import Commune
from civic.viewutil import change


class Refused(Exception):
    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NameForm(FlaskForm):
    class Meta:
        csrf = False

    name = StringField()


def _add(name: str) -> Commune:
    """A row added to the session, not committed."""
    commune = Commune(name=name, insee_code="59172")
    db.session.add(commune)
    db.session.flush()
    return commune


def _rows() -> int:
    return db.session.scalar(select(func.count()).select_from(Commune))


def test_a_committed_change_flashes_its_success(app):
    with app.test_request_context("/"):
        with change(Refused, success="Saved.") as step:
            _add("Denain")
        assert step.ok
        db.session.rollback()  # nothing left to undo: it was committed
        assert _rows() == 1
        assert get_flashed_messages(with_categories=True) == [("success", "Saved.")]


def test_the_message_may_come_from_the_block(app):
    with app.test_request_context("/"):
        with change(Refused) as step:
            commune = _add("Denain")
            step.success = f"{commune.name} added"
        assert get_flashed_messages() == ["Denain added"]


def test_a_refusal_writes_nothing_and_is_flashed_without_a_form(app):
    with app.test_request_context("/"):
        with change(Refused, success="Saved.") as step:
            _add("Denain")
            raise Refused("Not now.")
        assert not step.ok
        assert _rows() == 0
        assert get_flashed_messages(with_categories=True) == [("error", "Not now.")]


def test_a_refusal_is_shown_on_its_field_of_the_form(app):
    with app.test_request_context("/", method="POST", data={"name": "x"}):
        form = NameForm()
        with change(Refused, form, "Saved.") as step:
            _add("Denain")
            raise Refused("Too short.", field="name")
        assert not step.ok
        assert form.name.errors == ["Too short."]
        assert _rows() == 0
        assert get_flashed_messages() == []
        with change(Refused, form) as step:
            raise Refused("Closed.")  # no field: at the top of the form
        assert form.form_errors == ["Closed."]


def test_other_exceptions_go_on_up(app):
    with app.test_request_context("/"):
        with pytest.raises(KeyError), change(Refused, success="Saved."):
            raise KeyError("bug")
        assert get_flashed_messages() == []
