"""Bienveilleurs forms (labels lazy; choices that come from the database set in the view)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    HiddenField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Email, InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from civic.bienveilleurs.states import (
    BARRIERS,
    CONSENTS,
    INTERLOCUTOR_KINDS,
    JOB_OUTCOMES,
    MEMBER_TYPES,
    NEEDS,
    OPENERS,
    POSITION_KINDS,
    REFERRAL_OUTCOMES,
    URGENCIES,
)
from civic.forms import QuartierField, optional_int


def _choices(mapping: dict, blank: bool = True) -> list[tuple[str, object]]:
    head = [("", _l("— Choose —"))] if blank else []
    return head + list(mapping.items())


class CheckboxesField(SelectMultipleField):
    """A group of checkboxes (a fieldset with a legend in the template)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
        kwargs.setdefault("validate_choice", False)  # checked by the service
        super().__init__(*args, **kwargs)


class IdCheckboxesField(CheckboxesField):
    """Checkboxes whose values are database ids (bad values are dropped, then refused)."""

    def process_formdata(self, valuelist: list[str]) -> None:
        """Keep integers in the database range; anything else becomes an unknown id (-1)."""
        out = []
        for v in valuelist:
            try:
                n = optional_int(v)
            except ValueError:
                n = -1
            if n is not None:
                out.append(n)
        self.data = out


class ApplyForm(FlaskForm):
    """Apply to the network and sign its charter."""

    member_type = SelectField(_l("I am"), choices=_choices(MEMBER_TYPES),
                              validators=[InputRequired()], validate_choice=False)
    quartier_id = QuartierField(_l("Quartier where I act"), validators=[InputRequired()])
    languages = StringField(_l("Languages I speak"), validators=[Optional(), Length(max=200)],
                            description=_l("For example: français, arabe, anglais."))
    availability = StringField(_l("When I am available"),
                               validators=[Optional(), Length(max=300)],
                               description=_l("For example: weekday mornings, Saturdays."))
    topics = CheckboxesField(_l("Topics I know about"), choices=list(NEEDS.items()))
    charter = BooleanField(_l("I have read the network's charter and I sign it"))


class InterlocutorForm(FlaskForm):
    """An organisation of the directory."""

    name = StringField(_l("Name"), validators=[InputRequired(), Length(max=160)])
    kind = SelectField(_l("Kind of organisation"), choices=_choices(INTERLOCUTOR_KINDS),
                       validators=[InputRequired()], validate_choice=False)
    topics = CheckboxesField(_l("Needs it answers"), choices=list(NEEDS.items()))
    quartier_ids = IdCheckboxesField(
        _l("Quartiers served"),
        description=_l("Tick none if the organisation serves the whole territory."))
    opening_hours = TextAreaField(_l("Opening hours"), validators=[Optional(),
                                                                   Length(max=2000)])
    languages = StringField(_l("Languages spoken"), validators=[Optional(), Length(max=200)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=40)])
    email = EmailField(_l("Email"), validators=[Optional(), Email(), Length(max=254)])
    address = StringField(_l("Address"), validators=[Optional(), Length(max=300)])
    how_to_refer = TextAreaField(_l("How to refer someone"),
                                 validators=[Optional(), Length(max=2000)])
    is_public = BooleanField(_l("The organisation agrees to appear in the public directory"))
    is_active = BooleanField(_l("Active"), default=True)


class PersonalDataForm(FlaskForm):
    """Correct how to call and reach the person, and the note (right to rectification)."""

    person_name = StringField(
        _l("How to call the person"), validators=[InputRequired(), Length(max=120)],
        description=_l("A first name or a nickname is enough."))
    contact = TextAreaField(
        _l("How to reach them"), validators=[InputRequired(), Length(max=300)],
        description=_l("Phone number, address, or where they can be met. Encrypted."))
    note = TextAreaField(
        _l("Note for the follow-up"), validators=[Optional(), Length(max=2000)],
        description=_l("Only what helps to help. No diagnosis, no opinion. Encrypted."))


class ReferralForm(PersonalDataForm):
    """Record that someone needs to be contacted: only what the follow-up needs."""

    quartier_id = QuartierField(_l("Quartier"), validators=[InputRequired()])
    need = SelectField(_l("Kind of need"), choices=_choices(NEEDS),
                       validators=[InputRequired()], validate_choice=False)
    urgency = SelectField(_l("Urgency"), choices=list(URGENCIES.items()),
                          validators=[Optional()], validate_choice=False)
    consent = SelectField(
        _l("The person's consent to be contacted"), choices=_choices(CONSENTS),
        validators=[Optional()], validate_choice=False,
        description=_l("Never record someone who refused. If you could not ask yet, "
                       "choose “to be asked”: it will be asked at the first contact."))


class ReferralStepForm(FlaskForm):
    """Move a referral one step along its pipeline."""

    to_status = HiddenField()
    interlocutor_id = SelectField(_l("Interlocutor"), coerce=optional_int,
                                  validate_choice=False, validators=[Optional()])
    outcome = SelectField(_l("Outcome"), choices=_choices(REFERRAL_OUTCOMES),
                          validators=[Optional()], validate_choice=False)
    consent_given = BooleanField(_l("The person agreed to be helped and to have their "
                                    "details passed on to an interlocutor"))


class JobPersonalDataForm(PersonalDataForm):
    """The person's details on a conciergerie request (its own wording)."""

    contact = TextAreaField(_l("How to reach them"),
                            validators=[InputRequired(), Length(max=300)],
                            description=_l("Phone number or email. Encrypted."))
    note = TextAreaField(_l("What the professional needs to know"),
                         validators=[Optional(), Length(max=2000)],
                         description=_l("For example: two children aged 2 and 5, a 6 a.m. "
                                        "start. Encrypted."))


class JobRequestForm(JobPersonalDataForm):
    """Open a conciergerie de l'emploi request."""

    quartier_id = QuartierField(_l("Quartier"), validators=[InputRequired()])
    opener = SelectField(_l("Request opened by"), choices=_choices(OPENERS),
                         validators=[InputRequired()], validate_choice=False)
    position_kind = SelectField(_l("The person found"), choices=list(POSITION_KINDS.items()),
                                validators=[Optional()], validate_choice=False)
    start_date = DateField(_l("Start date (deadline)"), validators=[InputRequired()],
                           description=_l("The barrier must be lifted before this date."))
    barrier = SelectField(_l("What may stop them from starting"), choices=_choices(BARRIERS),
                          validators=[InputRequired()], validate_choice=False)
    consent = BooleanField(_l("The person agreed that their request be passed on to the "
                              "professionals who can help"))


class OfferForm(FlaskForm):
    """Offer a request to professionals."""

    interlocutor_ids = IdCheckboxesField(_l("Professionals to offer it to"))


class AnswerForm(FlaskForm):
    """Accept or decline an offer."""

    answer = HiddenField()


class CloseJobForm(FlaskForm):
    """Close a request with its outcome."""

    outcome = SelectField(_l("Outcome"), choices=_choices(JOB_OUTCOMES),
                          validators=[InputRequired()], validate_choice=False)


class MemberDecisionForm(FlaskForm):
    """A coordinator's decision on a member."""

    action = HiddenField()


class DirectorySearchForm(FlaskForm):
    """Search the directory (GET, no CSRF)."""

    class Meta:
        """A search is a GET: no token, so it can be bookmarked and printed."""

        csrf = False

    need = SelectField(_l("Need"), choices=[("", _l("All needs")), *NEEDS.items()],
                       validators=[Optional()], validate_choice=False)
    quartier = QuartierField(_l("Quartier"), validators=[Optional()])
