"""Open-data JSON endpoints (GET only, public data only)."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, abort, request
from sqlalchemy import func, select

from civic.api.openapi import openapi_document
from civic.extensions import db
from civic.permissions import public
from civic.territory.models import Commune, Quartier

bp = Blueprint("api", __name__, url_prefix="/api/v1")
MAX_LIMIT = 500
MAX_OFFSET = 2**31 - 1


def _json(data: Any, status: int = 200) -> Response:
    resp = Response(json.dumps(data, ensure_ascii=False), status=status,
                    mimetype="application/json")
    resp.headers["Access-Control-Allow-Origin"] = "*"
    resp.add_etag()
    return resp.make_conditional(request)


def _error(status: int, message: str) -> Response:
    return _json({"error": message, "status": status}, status)


def _paging() -> tuple[int, int] | Response:
    try:
        limit = int(request.args.get("limit", 100))
        offset = int(request.args.get("offset", 0))
    except ValueError:
        return _error(400, "limit and offset must be integers")
    # Offsets beyond the database's integer range overflow SQLite: refuse them (400).
    if not (1 <= limit <= MAX_LIMIT) or not (0 <= offset <= MAX_OFFSET):
        return _error(400, f"limit must be between 1 and {MAX_LIMIT}, "
                           f"offset between 0 and {MAX_OFFSET}")
    return limit, offset


def quartier_json(q: Quartier) -> dict[str, Any]:
    """Public representation of a quartier."""
    return {
        "code": q.code,
        "name": q.name,
        "commune": q.commune.name,
        "population": q.population,
        "is_priority": q.is_priority,
        "outline": json.loads(q.outline_geojson) if q.outline_geojson else None,
    }


@bp.route("/openapi.json")
@public
def openapi():
    """The OpenAPI 3.1 document of this API."""
    return _json(openapi_document())


@bp.route("/communes")
@public
def communes():
    """Communes with their quartier codes."""
    rows = db.session.execute(select(Commune).order_by(Commune.name)).scalars().all()
    return _json({"items": [
        {"name": c.name, "insee_code": c.insee_code, "quartiers": [q.code for q in c.quartiers]}
        for c in rows
    ]})


@bp.route("/quartiers")
@public
def quartiers():
    """Quartiers, paginated, filterable by commune name and priority flag."""
    paging = _paging()
    if isinstance(paging, Response):
        return paging
    limit, offset = paging
    stmt = select(Quartier).join(Commune)
    commune = request.args.get("commune")
    if commune:
        stmt = stmt.where(Commune.name == commune)
    priority = request.args.get("priority")
    if priority is not None:
        if priority not in ("true", "false"):
            return _error(400, "priority must be true or false")
        stmt = stmt.where(Quartier.is_priority.is_(priority == "true"))
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = db.session.execute(
        stmt.order_by(Quartier.code).offset(offset).limit(limit)
    ).scalars().all()
    return _json({"items": [quartier_json(q) for q in rows], "total": total,
                  "limit": limit, "offset": offset})


@bp.route("/quartiers/<code>")
@public
def quartier(code: str):
    """One quartier by its code."""
    q = db.session.execute(
        select(Quartier).where(Quartier.code == code.upper()[:20])
    ).scalar_one_or_none()
    if q is None:
        return _error(404, "no quartier with this code")
    return _json(quartier_json(q))


@bp.route("/bienveilleurs/statistics")
@public
def bienveilleurs_statistics():
    """Bienveilleurs network statistics per quartier for a year; counts under 5 are null."""
    from datetime import date

    from civic.bienveilleurs.services import (
        SUPPRESSION_THRESHOLD,
        network_statistics,
        statistics_period,
    )

    try:
        year = int(request.args.get("year", date.today().year))
    except ValueError:
        return _error(400, "year must be an integer")
    if not (2000 <= year <= 2100):
        return _error(400, "year must be between 2000 and 2100")
    start, end = statistics_period(year)
    stats = network_statistics(start, end)

    def table(rows: dict, code: str) -> dict[str, int | None]:
        return {k: c.value for k, c in rows[code].items()}

    return _json({
        "year": year, "end": end.isoformat(),
        "suppression_threshold": SUPPRESSION_THRESHOLD,
        "quartiers": [{
            "code": q.code, "name": q.name,
            "referrals_by_need": table(stats.by_need, q.code),
            "referrals_by_outcome": table(stats.by_outcome, q.code),
            "median_days_to_contact": stats.median_days_to_contact[q.code],
            "network_by_type": table(stats.network, q.code),
            "conciergerie_by_barrier": table(stats.conciergerie, q.code),
        } for q in stats.quartiers],
    })


@bp.errorhandler(404)
def api_404(_exc: Exception) -> Response:
    """JSON errors inside the API."""
    return _error(404, "not found")


__all__ = ["abort", "bp"]
