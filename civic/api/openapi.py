"""The OpenAPI 3.1 document: each domain adds its paths and schemas here."""

from __future__ import annotations

from typing import Any

ERROR = {"$ref": "#/components/schemas/Error"}


def _get(summary: str, schema: dict[str, Any], params: list | None = None,
         not_found: bool = False) -> dict[str, Any]:
    responses: dict[str, Any] = {
        "200": {"description": "OK", "content": {"application/json": {"schema": schema}}},
        "304": {"description": "Not modified (ETag)"},
    }
    if params:
        responses["400"] = {"description": "Bad parameter",
                            "content": {"application/json": {"schema": ERROR}}}
    if not_found:
        responses["404"] = {"description": "Not found",
                            "content": {"application/json": {"schema": ERROR}}}
    return {"get": {"summary": summary, "parameters": params or [], "responses": responses}}


PAGING = [
    {"name": "limit", "in": "query", "required": False,
     "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": 100}},
    {"name": "offset", "in": "query", "required": False,
     "schema": {"type": "integer", "minimum": 0, "maximum": 2**31 - 1, "default": 0}},
]


def openapi_document() -> dict[str, Any]:
    """Build the document (cheap; cached by the client through its ETag)."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "civic open data",
            "version": "1.0.0",
            "description": "Public data of the civic platform: read-only, no authentication.",
            "license": {"name": "Licence Ouverte 2.0 / Etalab",
                        "url": "https://www.etalab.gouv.fr/licence-ouverte-open-licence/"},
        },
        "servers": [{"url": "/api/v1"}],
        "paths": {
            "/openapi.json": _get("This document", {"type": "object"}),
            "/communes": _get("Communes", {
                "type": "object", "required": ["items"],
                "properties": {"items": {"type": "array",
                                         "items": {"$ref": "#/components/schemas/Commune"}}},
            }),
            "/quartiers": _get("Quartiers", {
                "type": "object", "required": ["items", "total", "limit", "offset"],
                "properties": {
                    "items": {"type": "array", "items": {"$ref": "#/components/schemas/Quartier"}},
                    "total": {"type": "integer", "minimum": 0},
                    "limit": {"type": "integer"}, "offset": {"type": "integer"},
                },
            }, params=[
                *PAGING,
                {"name": "commune", "in": "query", "required": False,
                 "schema": {"type": "string"}},
                {"name": "priority", "in": "query", "required": False,
                 "schema": {"type": "string", "enum": ["true", "false"]}},
            ]),
            "/quartiers/{code}": _get("One quartier", {"$ref": "#/components/schemas/Quartier"},
                                      params=[{"name": "code", "in": "path", "required": True,
                                               "schema": {"type": "string"}}],
                                      not_found=True),
            "/bienveilleurs/statistics": _get(
                "Bienveilleurs network statistics per quartier for a calendar year "
                "(counts under 5 are null)",
                {"$ref": "#/components/schemas/BienveilleursStatistics"},
                params=[{"name": "year", "in": "query", "required": False,
                         "schema": {"type": "integer", "minimum": 2000, "maximum": 2100}}]),
        },
        "components": {"schemas": {
            "Error": {"type": "object", "required": ["error", "status"],
                      "properties": {"error": {"type": "string"},
                                     "status": {"type": "integer"}}},
            "Commune": {"type": "object", "required": ["name", "quartiers"],
                        "properties": {"name": {"type": "string"},
                                       "insee_code": {"type": ["string", "null"]},
                                       "quartiers": {"type": "array",
                                                     "items": {"type": "string"}}}},
            "SuppressedCounts": {
                "type": "object",
                "description": "Counts by category and a 'total'; null means suppressed "
                               "(fewer than 5, or could reveal a suppressed count).",
                "additionalProperties": {"type": ["integer", "null"], "minimum": 0}},
            "BienveilleursStatistics": {
                "type": "object",
                "required": ["year", "end", "suppression_threshold", "quartiers"],
                "properties": {
                    "year": {"type": "integer"},
                    "end": {"type": "string", "format": "date",
                            "description": "Last day counted (the end of the previous "
                                           "month for the current year)"},
                    "suppression_threshold": {"type": "integer"},
                    "quartiers": {"type": "array", "items": {
                        "type": "object",
                        "required": ["code", "name", "referrals_by_need",
                                     "referrals_by_outcome", "median_days_to_contact",
                                     "network_by_type", "conciergerie_by_barrier"],
                        "properties": {
                            "code": {"type": "string"}, "name": {"type": "string"},
                            "referrals_by_need": {"$ref": "#/components/schemas/SuppressedCounts"},
                            "referrals_by_outcome": {
                                "$ref": "#/components/schemas/SuppressedCounts"},
                            "median_days_to_contact": {"type": ["number", "null"]},
                            "network_by_type": {"$ref": "#/components/schemas/SuppressedCounts"},
                            "conciergerie_by_barrier": {
                                "$ref": "#/components/schemas/SuppressedCounts"},
                        }}},
                }},
            "Quartier": {"type": "object",
                         "required": ["code", "name", "commune", "is_priority"],
                         "properties": {
                             "code": {"type": "string"}, "name": {"type": "string"},
                             "commune": {"type": "string"},
                             "population": {"type": ["integer", "null"]},
                             "is_priority": {"type": "boolean"},
                             "outline": {"type": ["object", "null"]},
                         }},
        }},
    }
