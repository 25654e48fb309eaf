"""Council forms: volunteering, members, the draw, meetings, avis and questions."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from civic.forms import optional_int


class VolunteerForm(FlaskForm):
    """A resident volunteers for the draw of the habitants collège."""

    published_name = StringField(
        _l("Name to publish if you are drawn"), validators=[InputRequired(), Length(max=80)],
        description=_l("For example your first name and the initial of your last name."))
    gender = SelectField(
        _l("Gender"), choices=[("", _l("— Choose —")), ("female", _l("Woman")),
                               ("male", _l("Man"))], validate_choice=False,
        validators=[InputRequired()],
        description=_l("The law asks for parity between women and men among drawn residents "
                       "(loi du 21 février 2014): the draw is made separately among women and "
                       "among men. Your answer is used only for that and is never published."))
    birth_year = IntegerField(
        _l("Year of birth (optional)"), validators=[Optional()],
        description=_l("Used only if the draw keeps a balance between age groups."))


class MemberForm(FlaskForm):
    """Appoint a member of a collège."""

    published_name = StringField(_l("Published name"),
                                 validators=[InputRequired(), Length(max=80)])
    college = SelectField(_l("Collège"), validate_choice=False, validators=[InputRequired()])
    organisation = StringField(
        _l("Association or local actor represented"), validators=[Optional(), Length(max=160)],
        description=_l("Required for the associations and local actors collège."))
    gender = SelectField(
        _l("Gender (optional)"), validate_choice=False,
        choices=[("", _l("Not stated")), ("female", _l("Woman")), ("male", _l("Man")),
                 ("other", _l("Other"))],
        description=_l("Used only to check parity among residents; never published."))
    email = StringField(
        _l("Email of their account (optional)"), validators=[Optional(), Length(max=254)],
        description=_l("Gives them access to the council's space."))
    term_start = DateField(_l("Start of the term (optional)"), validators=[Optional()])
    term_end = DateField(_l("End of the term (optional)"), validators=[Optional()])


class DrawForm(FlaskForm):
    """Run the draw of the habitants collège."""

    seats = IntegerField(_l("Seats to draw"), validators=[InputRequired()],
                         description=_l("An even number: half women, half men."))
    seed = StringField(
        _l("Seed (optional)"), validators=[Optional(), Length(max=120)],
        description=_l("Announce it before the draw, for example the date and the numbers of "
                       "a public lottery. Left empty, a random seed is chosen and published."))
    age_bands = StringField(
        _l("Age bands (optional)"), validators=[Optional(), Length(max=120)],
        description=_l("For example: 16-29, 30-59, 60+. Seats are then shared evenly between "
                       "the bands, for women and for men."))
    term_end = DateField(_l("End of the term (optional)"), validators=[Optional()])


class MeetingForm(FlaskForm):
    """Plan a meeting."""

    day = DateField(_l("Date"), validators=[InputRequired()])
    time = StringField(_l("Time (Paris)"), validators=[InputRequired(), Length(max=5)],
                       description=_l("For example 18:30."))
    duration = IntegerField(_l("Duration in minutes"), validators=[Optional()], default=120)
    location = StringField(_l("Place"), validators=[InputRequired(), Length(max=255)])
    agenda = TextAreaField(_l("Agenda"), validators=[InputRequired(), Length(max=5000)])


class MultiCheckboxField(SelectMultipleField):
    """Checkboxes for a multiple choice (usable without JavaScript)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class AttendanceForm(FlaskForm):
    """Tick the members present."""

    present = MultiCheckboxField(_l("Members present"), coerce=int, validate_choice=False)


class MinutesForm(FlaskForm):
    """Write the minutes; tick once the council has approved them."""

    minutes = TextAreaField(_l("Minutes"), validators=[InputRequired(), Length(max=20000)])
    approved = BooleanField(_l("The council has approved these minutes: publish them"))


class AvisForm(FlaskForm):
    """The council's avis and rating on an action."""

    opinion = RadioField(_l("Avis of the council"), validate_choice=False,
                         validators=[InputRequired()])
    rating = SelectField(
        _l("Rating"), coerce=optional_int, validate_choice=False,
        choices=[("", _l("— Choose —"))] + [(str(i), str(i)) for i in range(1, 6)],
        validators=[InputRequired()], description=_l("From 1 (poor) to 5 (excellent)."))
    text = TextAreaField(_l("Reasons"), validators=[InputRequired(), Length(max=4000)],
                         description=_l("Published on the action's page."))


class QuestionForm(FlaskForm):
    """A question to the porteur of an action."""

    text = TextAreaField(_l("Your question"), validators=[InputRequired(), Length(max=2000)])


class AnswerForm(FlaskForm):
    """The porteur's answer to a council's question."""

    answer = TextAreaField(_l("Answer"), validators=[InputRequired(), Length(max=4000)])


class CallForm(FlaskForm):
    """Open a plan's yearly call for projects."""

    year = IntegerField(_l("Year"), validators=[InputRequired()])
    title = StringField(_l("Title"), validators=[InputRequired(), Length(max=255)])
    criteria = TextAreaField(_l("Criteria"), validators=[InputRequired(), Length(max=5000)],
                             description=_l("One per line; published with the call."))
    max_cofinancing_percent = IntegerField(
        _l("Highest co-financing, in percent of the budget"), validators=[Optional()])
    closes_on = DateField(_l("Closing date"), validators=[InputRequired()])


class ApplicationForm(FlaskForm):
    """A porteur's proposal to a call for projects."""

    porteur = StringField(_l("Porteur (association, service…)"),
                          validators=[InputRequired(), Length(max=160)])
    title = StringField(_l("Title of the action"), validators=[InputRequired(), Length(max=255)])
    description = TextAreaField(
        _l("Description"), validators=[InputRequired(), Length(max=5000)],
        description=_l("What the action does, for whom, and how it meets the criteria."))
    quartier_id = SelectField(_l("Quartier concerned (optional)"), coerce=optional_int,
                              validate_choice=False, validators=[Optional()])
    budget = StringField(_l("Total budget in euros"), validators=[InputRequired(),
                                                                   Length(max=20)])
    requested = StringField(_l("Co-financing requested in euros"),
                            validators=[InputRequired(), Length(max=20)])


class ApplicationAvisForm(FlaskForm):
    """A council's avis on an application."""

    opinion = RadioField(_l("Avis of the council"), validate_choice=False,
                         validators=[InputRequired()])
    text = TextAreaField(_l("Reasons"), validators=[InputRequired(), Length(max=4000)])


class DecisionForm(FlaskForm):
    """The steering committee's decision on an application."""

    decision = SelectField(_l("Decision"), validate_choice=False, validators=[InputRequired()])
    reasons = TextAreaField(_l("Reasons"), validators=[InputRequired(), Length(max=4000)],
                            description=_l("Published with the decision."))
    committee = TextAreaField(
        _l("Members of the steering committee"), validators=[InputRequired(), Length(max=1000)],
        description=_l("Including the councils' delegates."))


class EvaluationForm(FlaskForm):
    """The yearly evaluation's decision on an action."""

    year = IntegerField(_l("Year evaluated"), validators=[InputRequired()])
    outcome = SelectField(_l("Decision"), validate_choice=False, validators=[InputRequired()])
    replaced_by = SelectField(_l("Replaced by (only to replace)"), coerce=optional_int,
                              validate_choice=False, validators=[Optional()])
    reasons = TextAreaField(_l("Reasons"), validators=[InputRequired(), Length(max=4000)],
                            description=_l("Published on the action's page, with the "
                                           "councils' avis."))
