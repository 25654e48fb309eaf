"""Admin forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import Email, InputRequired, Length, NumberRange, Optional

from civic.forms import QuartierField, optional_int


class CommuneForm(FlaskForm):
    """A commune."""

    name = StringField(_l("Name"), validators=[InputRequired(), Length(max=120)])
    insee_code = StringField(_l("INSEE code"), validators=[Optional(), Length(max=5)])


class QuartierForm(FlaskForm):
    """A quartier."""

    name = StringField(_l("Name"), validators=[InputRequired(), Length(max=120)])
    code = StringField(_l("Code"), validators=[InputRequired(), Length(max=20)],
                       description=_l("For a priority neighbourhood, its official QPV code."))
    commune_id = SelectField(_l("Commune"), coerce=optional_int, validate_choice=False,
                             validators=[InputRequired()])
    population = IntegerField(_l("Population"),
                              validators=[Optional(), NumberRange(min=0, max=100_000_000)])
    is_priority = BooleanField(_l("Priority neighbourhood (quartier prioritaire)"))
    outline_geojson = TextAreaField(
        _l("Outline (GeoJSON, optional)"), validators=[Optional(), Length(max=200_000)],
        description=_l("A Polygon or MultiPolygon in longitude, latitude."),
    )


class ServiceForm(FlaskForm):
    """A city service."""

    name = StringField(_l("Name"), validators=[InputRequired(), Length(max=120)])
    slug = StringField(_l("Short name"), validators=[InputRequired(), Length(max=60)],
                       description=_l("Lower-case letters, digits and -, e.g. espaces-verts."))
    email = EmailField(_l("Service email (optional)"),
                       validators=[Optional(), Email(), Length(max=254)])


class CouncilForm(FlaskForm):
    """A conseil citoyen."""

    name = StringField(_l("Name"), validators=[InputRequired(), Length(max=160)])
    quartier_id = QuartierField(_l("Quartier"), validators=[Optional()])


class GrantForm(FlaskForm):
    """Grant a role."""

    role = SelectField(_l("Role"), validators=[InputRequired()], validate_choice=False)
    scope_id = SelectField(_l("Scope (service, council, organisation, campaign or action)"), coerce=optional_int,
                           validate_choice=False, validators=[Optional()])


class ConfirmForm(FlaskForm):
    """CSRF token only."""
