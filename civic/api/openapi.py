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


# ---- participatory budget (money in integer cents, times in UTC, ISO 8601 with Z)
PUBLIC_STATUS_VALUES = ["feasible", "merged", "needs_info", "not_winner", "realised",
                        "selected", "submitted", "under_review", "unfeasible", "winner",
                        "withdrawn"]
CAMPAIGN_ID = {"name": "campaign_id", "in": "path", "required": True,
               "schema": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}}
_DATETIME = {"type": "string", "format": "date-time"}
_NULLABLE_DATETIME = {"type": ["string", "null"], "format": "date-time"}
CAMPAIGN_SCHEMA = {
    "type": "object",
    "required": ["id", "title", "total_cents", "current_phase", "phases", "envelopes",
                 "themes", "ballot_format", "counting_rule", "settings_frozen"],
    "properties": {
        "id": {"type": "integer"}, "title": {"type": "string"},
        "total_cents": {"type": "integer", "minimum": 0},
        "current_phase": {"type": "string", "enum": [
            "upcoming", "information", "submission", "review", "vote", "results",
            "realisation"]},
        "phases": {"type": "array", "items": {
            "type": "object", "required": ["phase", "starts_at"],
            "properties": {"phase": {"type": "string"}, "starts_at": _DATETIME}}},
        "envelopes": {"type": "array", "items": {
            "type": "object", "required": ["quartier", "amount_cents"],
            "properties": {"quartier": {"type": ["string", "null"],
                                        "description": "quartier code; null: city-wide"},
                           "amount_cents": {"type": "integer", "minimum": 0}}}},
        "themes": {"type": "array", "items": {"type": "string"}},
        "ballot_format": {"type": "string", "enum": ["approval", "knapsack", "cumulative"]},
        "counting_rule": {"type": "string", "enum": ["greedy", "mes"]},
        "settings_frozen": {"type": "boolean"},
    },
}
PROPOSAL_SCHEMA = {
    "type": "object",
    "required": ["id", "campaign_id", "title", "description", "status", "quartier", "theme",
                 "estimated_cost_cents", "validated_cost_cents", "answer",
                 "answer_published_at", "submitted_at"],
    "properties": {
        "id": {"type": "integer"}, "campaign_id": {"type": "integer"},
        "title": {"type": "string"}, "description": {"type": "string"},
        "status": {"type": "string", "enum": PUBLIC_STATUS_VALUES},
        "quartier": {"type": ["string", "null"]}, "theme": {"type": ["string", "null"]},
        "estimated_cost_cents": {"type": "integer"},
        "validated_cost_cents": {"type": ["integer", "null"]},
        "answer": {"type": ["string", "null"]},
        "answer_published_at": _NULLABLE_DATETIME, "submitted_at": _NULLABLE_DATETIME,
    },
}


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
            "/campaigns": _get("Participatory-budget campaigns", {
                "type": "object", "required": ["items"],
                "properties": {"items": {"type": "array",
                                         "items": {"$ref": "#/components/schemas/Campaign"}}},
            }),
            "/campaigns/{campaign_id}": _get(
                "One campaign", {"$ref": "#/components/schemas/Campaign"},
                params=[CAMPAIGN_ID], not_found=True),
            "/campaigns/{campaign_id}/proposals": _get("A campaign's public proposals", {
                "type": "object", "required": ["items", "total", "limit", "offset"],
                "properties": {
                    "items": {"type": "array", "items": {"$ref": "#/components/schemas/Proposal"}},
                    "total": {"type": "integer", "minimum": 0},
                    "limit": {"type": "integer"}, "offset": {"type": "integer"},
                },
            }, params=[CAMPAIGN_ID, *PAGING,
                       {"name": "status", "in": "query", "required": False,
                        "schema": {"type": "string", "enum": PUBLIC_STATUS_VALUES}}],
                not_found=True),
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
            "Quartier": {"type": "object",
                         "required": ["code", "name", "commune", "is_priority"],
                         "properties": {
                             "code": {"type": "string"}, "name": {"type": "string"},
                             "commune": {"type": "string"},
                             "population": {"type": ["integer", "null"]},
                             "is_priority": {"type": "boolean"},
                             "outline": {"type": ["object", "null"]},
                         }},
            "Campaign": CAMPAIGN_SCHEMA,
            "Proposal": PROPOSAL_SCHEMA,
        }},
    }
