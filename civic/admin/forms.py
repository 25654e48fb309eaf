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


# The kinds of object a role's grant can be scoped to (civic.permissions.RoleDef.scope),
# as group titles of the scope list.
SCOPE_KIND_TITLES = {
    "service": _l("City services (agents)"),
    "council": _l("Citizen councils (council members)"),
    "interlocutor": _l("Partner organisations (interlocutors)"),
    "campaign": _l("Budget campaigns (voting-desk agents)"),
    "action": _l("Actions of the action plan (porteurs)"),
}


def scope_value(kind: str, scope_id: int) -> str:
    """The value of a scope in the list: its kind and its id ("service:3")."""
    return f"{kind}:{scope_id}"


def parse_scope(value: str | None) -> tuple[str | None, int | None]:
    """(kind, id) from a value of the scope list; (None, None) for none; ValueError when it
    is not one the list can hold (a bare id is refused: it does not say what it names)."""
    if not value:
        return None, None
    kind, sep, number = value.partition(":")
    if not sep or kind not in SCOPE_KIND_TITLES:
        raise ValueError(value)
    scope_id = optional_int(number)
    if scope_id is None:
        raise ValueError(value)
    return kind, scope_id


class GrantForm(FlaskForm):
    """Grant a role."""

    role = SelectField(_l("Role"), validators=[InputRequired()], validate_choice=False)
    # Values carry the kind ("council:3"): ids of different kinds collide.
    scope = SelectField(_l("Scope (service, council, organisation, campaign or action)"),
                        validate_choice=False, validators=[Optional()])

