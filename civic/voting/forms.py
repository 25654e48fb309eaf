"""Vote forms. The project choices are read from the raw form data by read_choices, so
that a forged POST (unknown id, another quartier's project, garbage) reaches the service,
which refuses it with the same message whatever the page looked like."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField, SubmitField
from wtforms.validators import InputRequired, Length

from civic.voting.services import VoteError

# Points above this are refused before any arithmetic (campaign forms cap points at 1,000).
MAX_POINTS = 1000
MAX_PROJECT_FIELDS = 500


class BallotForm(FlaskForm):
    """The ballot being built: CSRF, plus the receipt when an existing vote is changed.
    The project fields (``project`` checkboxes or ``points-<id>`` numbers) are read by
    read_choices."""

    receipt = HiddenField()
    submit = SubmitField(_l("Review my ballot"))


class ConfirmVoteForm(FlaskForm):
    """Confirm: the reviewed choices (canonical text), a one-time token, and the receipt of
    the ballot being replaced when the vote is changed."""

    choices = HiddenField()
    token = HiddenField()
    receipt = HiddenField()
    submit = SubmitField(_l("Confirm my vote"))


class ReceiptForm(FlaskForm):
    """The receipt that proves a ballot is the voter's own (to change it)."""

    receipt = StringField(_l("Your receipt code"),
                          validators=[InputRequired(), Length(max=64)],
                          description=_l("The 26 letters and digits shown when you "
                                         "confirmed your vote, for example "
                                         "7K3M-Q9XD-…; dashes and spaces do not matter."))
    submit = SubmitField(_l("Change my vote"))


def read_choices(formdata: Any, ballot_format: str) -> dict[int, int]:
    """{proposal id: points} from the posted ballot; VoteError when it cannot be read."""
    out: dict[int, int] = {}
    unreadable = VoteError(_("This ballot could not be read: choose projects with the "
                             "form of this page."), "choices")
    if ballot_format == "cumulative":
        keys = [k for k in formdata if k.startswith("points-")]
        if len(keys) > MAX_PROJECT_FIELDS:
            raise unreadable
        for key in keys:
            pid = _int(key[len("points-"):])
            text = (formdata.get(key) or "").strip()
            if not text:
                continue
            value = _int(text)
            if pid is None or value is None:
                raise VoteError(_("Points are whole numbers, for example 3."), "choices")
            if value < 0 or value > MAX_POINTS:
                raise VoteError(_("Give between 0 and %(max)d points to a project.",
                                  max=MAX_POINTS), "choices")
            if value:
                out[pid] = value
        return out
    values = formdata.getlist("project")
    if len(values) > MAX_PROJECT_FIELDS:
        raise unreadable
    for text in values:
        pid = _int(text)
        if pid is None:
            raise unreadable
        out[pid] = 1
    return out


def _int(text: str) -> int | None:
    text = (text or "").strip()
    if not text.isascii() or not text.lstrip("-").isdigit() or len(text) > 12:
        return None
    return int(text)
