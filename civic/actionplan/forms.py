"""Action-plan forms (coordination side) and the public filter form."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    DateField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, Optional

from civic.forms import optional_int


class StatusForm(FlaskForm):
    """Change an action's status (choices are the transitions allowed from its status)."""

    status = SelectField(_l("New status"), validators=[InputRequired()], validate_choice=False)
    replaced_by = SelectField(
        _l("Replaced by (only for a replaced action)"), coerce=optional_int,
        validate_choice=False, validators=[Optional()],
    )
    note = TextAreaField(
        _l("What happened"), validators=[Optional(), Length(max=2000)],
        description=_l("Shown in the action's public timeline, with the date."),
    )


class IndicatorForm(FlaskForm):
    """Add an indicator to an action."""

    name = StringField(_l("What is measured"), validators=[InputRequired(), Length(max=255)])
    unit = StringField(_l("Unit"), validators=[InputRequired(), Length(max=40)],
                       description=_l("For example: people, %, events."))
    baseline = StringField(_l("Baseline (optional)"), validators=[Optional(), Length(max=30)],
                           description=_l("The value before the action, if known."))
    baseline_year = IntegerField(_l("Year of the baseline (optional)"),
                                 validators=[Optional()])
    source = StringField(_l("Source of the figures (optional)"),
                         validators=[Optional(), Length(max=255)])


class IndicatorValueForm(FlaskForm):
    """Record a target and/or a measured value for a year."""

    indicator = SelectField(_l("Indicator"), coerce=optional_int, validate_choice=False,
                            validators=[InputRequired()])
    year = IntegerField(_l("Year"), validators=[InputRequired()])
    public = SelectField(
        _l("For which public"), coerce=optional_int, validate_choice=False,
        validators=[Optional()],
        description=_l("Leave « Everyone » for the whole population; choose a public "
                       "prioritaire to record its own figures."))
    # Text, not a number field: the service reads "12,5" as well as "12.5" and explains
    # what it refuses.
    target = StringField(_l("Target"), validators=[Optional(), Length(max=30)])
    measured = StringField(_l("Measured value"), validators=[Optional(), Length(max=30)],
                           description=_l("Leave empty if not measured yet."))


class ActionDetailsForm(FlaskForm):
    """Porteur, partners, period, budget, quartiers, publics and themes of an action."""

    porteur = StringField(_l("Porteur"), validators=[Optional(), Length(max=160)],
                          description=_l("The city service or partner that carries the action."))
    partners = TextAreaField(_l("Partners"), validators=[Optional(), Length(max=4000)],
                             description=_l("One per line."))
    period_start = IntegerField(_l("First year"), validators=[Optional()])
    period_end = IntegerField(_l("Last year"), validators=[Optional()])
    budget = StringField(_l("Budget in euros (optional)"),
                         validators=[Optional(), Length(max=20)])
    quartiers = SelectMultipleField(_l("Quartiers concerned"), coerce=int,
                                    validate_choice=False)
    publics = SelectMultipleField(_l("Publics prioritaires"), coerce=int, validate_choice=False)
    tags = SelectMultipleField(_l("Cross-cutting themes"), coerce=int, validate_choice=False)


class ParticipationForm(FlaskForm):
    """Record residents' participation at one stage of an action."""

    stage = SelectField(_l("Stage of the action"), validators=[InputRequired()],
                        validate_choice=False)
    held_on = DateField(_l("Date"), validators=[InputRequired()],
                        description=_l("The day it took place (or began)."))
    participants = IntegerField(_l("Number of residents who took part"),
                                validators=[InputRequired()])
    description = TextAreaField(
        _l("What residents did"), validators=[InputRequired(), Length(max=4000)],
        description=_l("For example: a design workshop, a walk through the quartier, a "
                       "review meeting. Shown on the action's public page."))


class CsvImportForm(FlaskForm):
    """Upload a plan as a CSV file (the format of the export)."""

    slug = StringField(
        _l("Identifier of the new plan"), validators=[InputRequired(), Length(max=80)],
        description=_l("Lowercase letters, digits and hyphens, for example "
                       "contrat-de-ville-2026. It must not be used by a plan with content."))
    file = FileField(_l("CSV file"), validators=[FileRequired()],
                     description=_l("The format of the export: UTF-8, separated by ; (or ,), "
                                    "2 MB at most."))
