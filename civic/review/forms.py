"""Feasibility-review forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, RadioField, SelectField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from civic.budgeting.forms import MultiCheckboxField, euros_field
from civic.forms import optional_int
from civic.review.models import VERDICT_TITLES


class AssignForm(FlaskForm):
    """Send one proposal to services."""

    service_ids = MultiCheckboxField(_l("Services"), coerce=int)


class ThemeAssignForm(FlaskForm):
    """Send every submitted proposal of a theme to services."""

    theme_id = SelectField(_l("Theme"), coerce=optional_int, validate_choice=False,
                           validators=[InputRequired()])
    service_ids = MultiCheckboxField(_l("Services"), coerce=int)


class VerdictForm(FlaskForm):
    """A service's verdict."""

    verdict = RadioField(_l("Verdict"), choices=[(k.value, v) for k, v in
                                                 VERDICT_TITLES.items()],
                         validators=[InputRequired()])
    public_explanation = TextAreaField(
        _l("Public explanation"), validators=[Optional(), Length(max=5000)],
        description=_l("Shown to the author and the public once the coordination publishes "
                       "it. Required when the project is not feasible; for a question, "
                       "write the question."))
    validated_cost = euros_field(_l("Validated cost (euros)"),
                                 description=_l("Required when the project is feasible."))
    duration_weeks = IntegerField(_l("Estimated duration of the works (weeks)"),
                                  validators=[Optional(), NumberRange(1, 520)])
    internal_notes = TextAreaField(
        _l("Internal notes"), validators=[Optional(), Length(max=5000)],
        description=_l("Seen only by your service and the coordination, never by residents."))


class PublishForm(FlaskForm):
    """Choose the answers to publish."""

    proposal_ids = MultiCheckboxField(_l("Answers to publish"), coerce=int)


class ReturnForm(FlaskForm):
    """Send a verdict back to its service."""

    note = TextAreaField(_l("What should the service reconsider?"),
                         validators=[InputRequired(), Length(max=1000)])


class ReopenForm(FlaskForm):
    """Take a published answer back under review."""

    reason = TextAreaField(_l("Why is the answer reopened? (shown to the author)"),
                           validators=[InputRequired(), Length(max=1000)])
