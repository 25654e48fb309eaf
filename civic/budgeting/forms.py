"""Budget forms. Amounts are typed in whole euros and stored in cents by the views."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import escape
from wtforms import (
    BooleanField,
    DateField,
    FloatField,
    IntegerField,
    MultipleFileField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from civic.budgeting.states import DATED_PHASES, PHASE_TITLES
from civic.forms import optional_int

# Integer fields accept at most this many euros, so that absurd input gets a field error
# instead of reaching the database (10 million euros; the services check the real limits).
EURO_FIELD_MAX = 10_000_000


class MultiCheckboxField(SelectMultipleField):
    """Checkboxes for a multiple choice (rendered inside a fieldset by the template)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def euros_field(label: Any, *, required: bool = False, description: Any = None,
                minimum: int = 0) -> IntegerField:
    """A whole-euro amount."""
    validators = [InputRequired()] if required else [Optional()]
    validators.append(NumberRange(min=minimum, max=EURO_FIELD_MAX))
    return IntegerField(label, validators=validators, description=description)


class CampaignFormBase(FlaskForm):
    """A campaign; the per-quartier envelope fields are added by campaign_form()."""

    title = StringField(_l("Title"), validators=[InputRequired(), Length(max=160)],
                        description=_l("For example: Budget participatif 2027."))
    description = TextAreaField(_l("Presentation and rules"),
                                validators=[Optional(), Length(max=10000)])
    total = euros_field(_l("Total amount (euros)"), required=True, minimum=1)
    city_envelope = euros_field(_l("City-wide envelope (euros)"), required=True,
                                description=_l("For projects that serve the whole city."))
    min_age = IntegerField(_l("Minimum age"), validators=[Optional(), NumberRange(0, 120)],
                           description=_l("Leave empty for no minimum age."))
    require_verified = BooleanField(_l("Residency must be verified"))
    require_residence = BooleanField(
        _l("Only residents of a quartier can propose and vote for its envelope"),
        default=True)
    ballot_format = SelectField(_l("Ballot format"), choices=[
        ("approval", _l("Approval: choose up to a number of projects")),
        ("knapsack", _l("Knapsack: choose projects within the envelope")),
        ("cumulative", _l("Cumulative: share out points")),
    ])
    max_choices = IntegerField(_l("Approval: maximum number of projects"),
                               validators=[Optional(), NumberRange(1, 100)])
    points_total = IntegerField(_l("Cumulative: number of points"),
                                validators=[Optional(), NumberRange(1, 1000)])
    min_projects = IntegerField(_l("Cumulative: minimum number of projects"),
                                validators=[Optional(), NumberRange(1, 1000)])
    counting_rule = SelectField(_l("Counting rule"), choices=[
        ("greedy", _l("Greedy: most votes first, while money remains")),
        ("mes", _l("Method of Equal Shares")),
    ])
    themes = TextAreaField(_l("Themes"), validators=[Optional(), Length(max=4000)],
                           description=_l("One theme per line."))
    information_starts = DateField(PHASE_TITLES[DATED_PHASES[0]], validators=[InputRequired()])
    submission_starts = DateField(PHASE_TITLES[DATED_PHASES[1]], validators=[InputRequired()])
    review_starts = DateField(PHASE_TITLES[DATED_PHASES[2]], validators=[InputRequired()])
    vote_starts = DateField(PHASE_TITLES[DATED_PHASES[3]], validators=[InputRequired()])
    results_starts = DateField(PHASE_TITLES[DATED_PHASES[4]], validators=[InputRequired()])
    realisation_starts = DateField(PHASE_TITLES[DATED_PHASES[5]],
                                   validators=[InputRequired()])

    envelope_fields: list[tuple[int, str]] = []


def campaign_form(quartiers: list[tuple[int, str]], **kwargs: Any) -> CampaignFormBase:
    """The campaign form with one envelope field per quartier (id, label)."""

    class CampaignForm(CampaignFormBase):
        pass

    for qid, label in quartiers:
        setattr(CampaignForm, f"envelope_{qid}", euros_field(
            # escaped here: a lazy string's __html__ is taken as safe markup by WTForms' labels
            _l("Envelope of %(quartier)s (euros)", quartier=escape(label))))
    CampaignForm.envelope_fields = [(qid, f"envelope_{qid}") for qid, _label in quartiers]
    return CampaignForm(**kwargs)


class ProposalForm(FlaskForm):
    """A resident's proposal."""

    title = StringField(_l("Title of the project"),
                        validators=[InputRequired(), Length(min=5, max=140)])
    description = TextAreaField(
        _l("Description"), validators=[InputRequired(), Length(min=20, max=10000)],
        description=_l("What, where, for whom, and why it matters to the neighbourhood."))
    quartier_id = SelectField(_l("Envelope"), coerce=optional_int, validate_choice=False,
                              description=_l("Your quartier's envelope, or the whole city."))
    theme_id = SelectField(_l("Theme"), coerce=optional_int, validate_choice=False)
    estimated_cost = euros_field(_l("Estimated cost (euros)"), required=True,
                                 description=_l("An order of magnitude is enough: the city "
                                                "services will check it."))
    address = StringField(_l("Postal address or place"),
                          validators=[Optional(), Length(max=200)],
                          description=_l("For example: square Jean-Jaurès, near the school."))
    latitude = FloatField(_l("Latitude (optional)"), validators=[Optional()])
    longitude = FloatField(_l("Longitude (optional)"), validators=[Optional()])
    images = MultipleFileField(
        _l("Images (optional)"),
        description=_l("Up to 3 images, JPEG, PNG, WebP or GIF, 4 MB each at most. "
                       "Location data in the files is removed."))
    accept_rules = BooleanField(_l("I accept the campaign's rules"))
    save_draft = SubmitField(_l("Save as draft"))
    submit = SubmitField(_l("Submit my proposal"))


class AssistedProposalForm(ProposalForm):
    """A proposal filed at a counter for a resident."""

    accept_rules = BooleanField(
        _l("The resident asked for this proposal and accepts the campaign's rules"),
        validators=[InputRequired()])


class CommentForm(FlaskForm):
    """A comment."""

    body = TextAreaField(_l("Your comment"), validators=[InputRequired(), Length(max=2000)])


class CommentReportForm(FlaskForm):
    """Report a comment: a reason from the short list, and details if needed."""

    # Choices come from civic.budgeting.comments.CommentReason (set by the view); the
    # service checks the value, so a forged one gets a translated form error.
    reason = RadioField(_l("Why does this comment break the rules?"), validate_choice=False)
    details = TextAreaField(_l("Details (optional, required for “Another reason”)"),
                            validators=[Optional(), Length(max=1000)])


class CommentModerationForm(FlaskForm):
    """Hide, restore, or keep a reported comment."""

    decision = RadioField(_l("Decision"), validate_choice=False)
    reason = RadioField(_l("Reason for hiding (shown in place of the comment)"),
                        validate_choice=False)
    note = TextAreaField(_l("Message to the author (optional, logged)"),
                         validators=[Optional(), Length(max=1000)])


class FlagForm(FlaskForm):
    """Report a proposal."""

    reason = TextAreaField(_l("Why does this proposal break the rules?"),
                           validators=[InputRequired(), Length(max=1000)])


class ModerationForm(FlaskForm):
    """Hide, restore, or keep a reported proposal."""

    action = SelectField(_l("Decision"), choices=[
        ("hide", _l("Hide the proposal")), ("restore", _l("Restore the proposal")),
        ("dismiss", _l("Keep it online and close the reports"))])
    reason = TextAreaField(_l("Reason (logged, and told to the author)"),
                           validators=[Optional(), Length(max=1000)])


class MergeForm(FlaskForm):
    """Merge a duplicate into another proposal."""

    target_id = SelectField(_l("Merge into"), coerce=optional_int, validate_choice=False,
                            validators=[InputRequired()])


class AnswerForm(FlaskForm):
    """The author answers the services' question."""

    reply = TextAreaField(_l("Your answer"), validators=[InputRequired(), Length(max=5000)])


__all__ = ["DATED_PHASES"]
