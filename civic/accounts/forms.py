"""Account forms (labels are lazy: evaluated at render time, in the user's language)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, IntegerField, PasswordField, SelectField, StringField
from wtforms.validators import Email, InputRequired, Length, NumberRange, Optional

from civic.forms import QuartierField

GENDER_CHOICES = [
    ("", _l("I prefer not to say")),
    ("female", _l("Woman")),
    ("male", _l("Man")),
    ("other", _l("Other")),
]
LOCALE_CHOICES = [("", _l("Automatic (browser)")), ("fr", "Français"), ("en", "English")]
GENDER_HELP = _l(
    "Optional. Used only to respect parity between women and men when drawing "
    "conseil citoyen members by lot (loi Lamy) and for anonymous statistics. "
    "Never shown to anyone."
)


class RegisterForm(FlaskForm):
    """Resident registration."""

    email = EmailField(_l("Email address"), validators=[InputRequired(), Email(), Length(max=254)])
    password = PasswordField(
        _l("Password"), validators=[InputRequired(), Length(max=200)],
        description=_l("At least 10 characters. A sentence you remember is a good choice."),
    )
    display_name = StringField(
        _l("Display name"), validators=[InputRequired(), Length(min=2, max=80)],
        description=_l("Shown with your public contributions."),
    )
    quartier_id = QuartierField(
        _l("Quartier of residence"), validators=[InputRequired()],
        description=_l("Decides which neighbourhood votes you can take part in."),
    )
    birth_year = IntegerField(
        _l("Year of birth"), validators=[InputRequired(), NumberRange(min=1900, max=2100)],
        description=_l("Some votes have a minimum age."),
    )
    gender = SelectField(_l("Gender"), choices=GENDER_CHOICES, validators=[Optional()],
                         description=GENDER_HELP)
    accept = BooleanField(
        _l("I have read how my personal data is used"), validators=[InputRequired()]
    )


class LoginForm(FlaskForm):
    """Email and password."""

    email = EmailField(_l("Email address"), validators=[InputRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[InputRequired(), Length(max=200)])


class EmailOnlyForm(FlaskForm):
    """Ask for a password reset or a new confirmation link."""

    email = EmailField(_l("Email address"), validators=[InputRequired(), Email(), Length(max=254)])


class ResetPasswordForm(FlaskForm):
    """Choose a new password."""

    password = PasswordField(
        _l("New password"), validators=[InputRequired(), Length(max=200)],
        description=_l("At least 10 characters."),
    )


class ProfileForm(FlaskForm):
    """Edit one's profile."""

    display_name = StringField(_l("Display name"),
                               validators=[InputRequired(), Length(min=2, max=80)])
    quartier_id = QuartierField(_l("Quartier of residence"), validators=[InputRequired()])
    birth_year = IntegerField(_l("Year of birth"),
                              validators=[InputRequired(), NumberRange(min=1900, max=2100)])
    gender = SelectField(_l("Gender"), choices=GENDER_CHOICES, validators=[Optional()],
                         description=GENDER_HELP)
    locale = SelectField(_l("Language"), choices=LOCALE_CHOICES, validators=[Optional()])


class ChangePasswordForm(FlaskForm):
    """Change password (needs the current one)."""

    current_password = PasswordField(_l("Current password"),
                                     validators=[InputRequired(), Length(max=200)])
    password = PasswordField(_l("New password"), validators=[InputRequired(), Length(max=200)],
                             description=_l("At least 10 characters."))


class DeleteAccountForm(FlaskForm):
    """Confirm account deletion with the password."""

    password = PasswordField(_l("Password"), validators=[InputRequired(), Length(max=200)])
    confirm = BooleanField(_l("I understand that this cannot be undone"),
                           validators=[InputRequired()])


class AssistedRegisterForm(FlaskForm):
    """An agent registers a resident at a counter."""

    display_name = StringField(_l("Resident's name"),
                               validators=[InputRequired(), Length(min=2, max=80)])
    email = EmailField(
        _l("Resident's email address (optional)"),
        validators=[Optional(), Email(), Length(max=254)],
        description=_l("If given, the resident receives a link to choose a password "
                       "and is told of everything done on their behalf."),
    )
    quartier_id = QuartierField(_l("Quartier of residence"), validators=[InputRequired()])
    birth_year = IntegerField(_l("Year of birth"),
                              validators=[InputRequired(), NumberRange(min=1900, max=2100)])
    gender = SelectField(_l("Gender"), choices=GENDER_CHOICES, validators=[Optional()],
                         description=GENDER_HELP)
    consent = BooleanField(
        _l("The resident asked for this account and was told how their data is used"),
        validators=[InputRequired()],
    )

