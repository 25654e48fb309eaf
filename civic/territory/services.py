"""Territory services: communes, quartiers, city services, councils (admin only)."""

from __future__ import annotations

import json
import re
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from civic.accounts.services import AccountError
from civic.audit import audit
from civic.extensions import db
from civic.territory.models import CityService, Commune, Council, Quartier


class TerritoryError(AccountError):
    """A refused change to the territory (same shape as account errors)."""


def _unique(model: Any, column: Any, value: Any, current_id: int | None, field: str) -> None:
    other = db.session.execute(select(model).where(column == value)).scalar_one_or_none()
    if other is not None and other.id != current_id:
        raise TerritoryError(_("This value is already used."), field)


def validate_outline(text: str | None) -> str | None:
    """Accept a GeoJSON Polygon/MultiPolygon (or a Feature of one); return it compact."""
    if not text or not text.strip():
        return None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise TerritoryError(_("The outline is not valid JSON."), "outline_geojson") from exc
    if isinstance(data, dict) and data.get("type") == "Feature":
        data = data.get("geometry")
    if not isinstance(data, dict) or data.get("type") not in ("Polygon", "MultiPolygon"):
        raise TerritoryError(_("The outline must be a GeoJSON Polygon or MultiPolygon."),
                             "outline_geojson")
    rings = data.get("coordinates")
    polys = [rings] if data["type"] == "Polygon" else rings
    try:
        for poly in polys:
            for ring in poly:
                if len(ring) < 4 or ring[0] != ring[-1]:
                    raise ValueError
                for lon, lat, *_rest in ring:
                    if not (-180 <= float(lon) <= 180 and -90 <= float(lat) <= 90):
                        raise ValueError
    except (TypeError, ValueError) as exc:
        raise TerritoryError(
            _("The outline's coordinates are not valid (closed rings of longitude, latitude)."),
            "outline_geojson",
        ) from exc
    return json.dumps(data, separators=(",", ":"))


def save_commune(actor: Any, commune: Commune | None, *, name: str, insee_code: str | None
                 ) -> Commune:
    """Create or update a commune."""
    name = name.strip()
    insee_code = (insee_code or "").strip() or None
    if insee_code and not re.fullmatch(r"[0-9][0-9AB][0-9]{3}", insee_code):
        raise TerritoryError(_("An INSEE code has 5 characters, e.g. 59172."), "insee_code")
    _unique(Commune, Commune.name, name, commune.id if commune else None, "name")
    if insee_code:
        _unique(Commune, Commune.insee_code, insee_code, commune.id if commune else None,
                "insee_code")
    if commune is None:
        commune = Commune(name=name)
        db.session.add(commune)
    commune.name, commune.insee_code = name, insee_code
    db.session.flush()
    audit(actor, "territory.commune_saved", None, name)
    return commune


def save_quartier(actor: Any, quartier: Quartier | None, *, name: str, code: str,
                  commune_id: int, population: int | None, is_priority: bool,
                  outline_geojson: str | None) -> Quartier:
    """Create or update a quartier."""
    name, code = name.strip(), code.strip().upper()
    if not re.fullmatch(r"[A-Z0-9][A-Z0-9_-]{0,19}", code):
        raise TerritoryError(_("Use letters, digits, - or _ (up to 20), e.g. QN059035."), "code")
    if db.session.get(Commune, commune_id) is None:
        raise TerritoryError(_("Choose a commune from the list."), "commune_id")
    if population is not None and population < 0:
        raise TerritoryError(_("The population cannot be negative."), "population")
    _unique(Quartier, Quartier.code, code, quartier.id if quartier else None, "code")
    same = db.session.execute(
        select(Quartier).where(Quartier.commune_id == commune_id, Quartier.name == name)
    ).scalar_one_or_none()
    if same is not None and (quartier is None or same.id != quartier.id):
        raise TerritoryError(_("This commune already has a quartier with this name."), "name")
    outline = validate_outline(outline_geojson)
    if quartier is None:
        quartier = Quartier(name=name, code=code, commune_id=commune_id)
        db.session.add(quartier)
    quartier.name, quartier.code, quartier.commune_id = name, code, commune_id
    quartier.population, quartier.is_priority, quartier.outline_geojson = (
        population, is_priority, outline)
    db.session.flush()
    audit(actor, "territory.quartier_saved", None, f"{code} {name}")
    return quartier


def save_service(actor: Any, service: CityService | None, *, name: str, slug: str,
                 email: str | None) -> CityService:
    """Create or update a city service."""
    name, slug = name.strip(), slug.strip().lower()
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,59}", slug):
        raise TerritoryError(_("Use lower-case letters, digits and - only."), "slug")
    _unique(CityService, CityService.name, name, service.id if service else None, "name")
    _unique(CityService, CityService.slug, slug, service.id if service else None, "slug")
    if service is None:
        service = CityService(name=name, slug=slug)
        db.session.add(service)
    service.name, service.slug, service.email = name, slug, (email or "").strip() or None
    db.session.flush()
    audit(actor, "territory.service_saved", None, name)
    return service


def save_council(actor: Any, council: Council | None, *, name: str, quartier_id: int | None
                 ) -> Council:
    """Create or update a conseil citoyen."""
    name = name.strip()
    if quartier_id is not None and db.session.get(Quartier, quartier_id) is None:
        raise TerritoryError(_("Choose a quartier from the list."), "quartier_id")
    _unique(Council, Council.name, name, council.id if council else None, "name")
    if council is None:
        council = Council(name=name)
        db.session.add(council)
    council.name, council.quartier_id = name, quartier_id
    db.session.flush()
    audit(actor, "territory.council_saved", None, name)
    return council
