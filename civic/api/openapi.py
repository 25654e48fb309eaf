"""The OpenAPI 3.1 document: each domain adds its paths and schemas here."""

from __future__ import annotations

from typing import Any

ERROR = {"$ref": "#/components/schemas/Error"}


def _get(summary: str, schema: dict[str, Any], params: list | None = None,
         not_found: bool = False) -> dict[str, Any]:
    responses: dict[str, Any] = {
        "200": {"description": "OK", "content": {"application/json": {"schema": schema}}},
    }
    if params:
        responses["400"] = {"description": "Bad parameter",
                            "content": {"application/json": {"schema": ERROR}}}
    if not_found:
        responses["404"] = {"description": "Not found",
                            "content": {"application/json": {"schema": ERROR}}}
    return {"get": {"summary": summary, "parameters": params or [], "responses": responses}}


# Text parameters: control characters (NUL above all) are refused with 400 by every endpoint.
TEXT_PARAM = {"type": "string", "maxLength": 200, "pattern": "^[^\\u0000-\\u001f]*$"}

PAGING = [
    {"name": "limit", "in": "query", "required": False,
     "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": 100}},
    {"name": "offset", "in": "query", "required": False,
     "schema": {"type": "integer", "minimum": 0, "maximum": 2147483647, "default": 0}},
]


NULLABLE_INT = {"type": ["integer", "null"]}
# Every request carrying a NUL byte is refused (civic.security): say so, so that clients
# (and schemathesis) do not treat such a value as valid.
NULLABLE_STR = {"type": ["string", "null"]}
PERCENT = {"type": ["number", "null"], "minimum": 0, "maximum": 100,
           "description": "Progress in percent, rolled up the tree (null: nothing to measure)"}
STATUS = {"type": ["string", "null"],
          "enum": ["planned", "in_progress", "done", "evolved", "replaced", "abandoned", None]}
PERIOD = {"type": "object", "required": ["start", "end"],
          "properties": {"start": NULLABLE_INT, "end": NULLABLE_INT}}
_SUMMARY_PROPS = {
    "id": {"type": "integer"}, "slug": {"type": "string"}, "title": {"type": "string"},
    "subtitle": NULLABLE_STR, "territory": NULLABLE_STR, "period": PERIOD,
    "levels": {"type": "array", "items": {
        "type": "object", "required": ["kind", "label"],
        "properties": {"kind": {"type": "string"}, "label": {"type": "string"}}}},
    "action_kind": {"type": "string"}, "progress": PERCENT,
}
_NODE_PROPS = {
    "id": {"type": "integer"}, "kind": {"type": "string"}, "level": {"type": "string"},
    "code": NULLABLE_STR, "title": {"type": "string"}, "is_action": {"type": "boolean"},
    "status": STATUS, "weight": {"type": "integer"}, "progress": PERCENT,
}
ACTIONPLAN_SCHEMAS: dict[str, Any] = {
    "PlanSummary": {"type": "object", "required": list(_SUMMARY_PROPS),
                    "properties": _SUMMARY_PROPS},
    "Plan": {"type": "object",
             "required": [*_SUMMARY_PROPS, "source_note", "publics_prioritaires",
                          "cross_cutting_tags", "nodes"],
             "properties": {
                 **_SUMMARY_PROPS, "source_note": {"type": "string"},
                 "publics_prioritaires": {"type": "array", "items": {
                     "type": "object", "required": ["id", "label", "scope_codes"],
                     "properties": {"id": {"type": "integer"}, "label": {"type": "string"},
                                    "scope_codes": {"type": "array",
                                                    "items": {"type": "string"}}}}},
                 "cross_cutting_tags": {"type": "array", "items": {
                     "type": "object", "required": ["id", "label"],
                     "properties": {"id": {"type": "integer"}, "label": {"type": "string"}}}},
                 "nodes": {"type": "array", "items": {"$ref": "#/components/schemas/PlanNode"}},
             }},
    "PlanNode": {"type": "object", "required": [*_NODE_PROPS, "children"],
                 "properties": {**_NODE_PROPS, "children": {
                     "type": "array", "items": {"$ref": "#/components/schemas/PlanNode"}}}},
    "Action": {"type": "object",
               "required": [*_NODE_PROPS, "plan_id", "parent_id", "porteur", "partners",
                            "period", "budget_cents", "quartiers", "indicators", "timeline"],
               "properties": {
                   **_NODE_PROPS, "plan_id": {"type": "integer"}, "parent_id": NULLABLE_INT,
                   "description": NULLABLE_STR,
                   "expected_impact": {"type": "array", "items": {"type": "string"}},
                   "porteur": NULLABLE_STR,
                   "partners": {"type": "array", "items": {"type": "string"}},
                   "period": PERIOD,
                   "budget_cents": {"type": ["integer", "null"], "minimum": 0,
                                    "description": "Budget in euro cents"},
                   "replaced_by_id": NULLABLE_INT,
                   "quartiers": {"type": "array", "items": {"type": "string"},
                                 "description": "Quartier codes"},
                   "publics_prioritaires": {"type": "array", "items": {"type": "string"}},
                   "tags": {"type": "array", "items": {"type": "string"}},
                   "indicators": {"type": "array", "items": {
                       "type": "object",
                       "required": ["id", "name", "unit", "baseline", "values"],
                       "properties": {
                           "id": {"type": "integer"}, "name": {"type": "string"},
                           "unit": {"type": "string"},
                           "baseline": {"type": ["number", "null"]},
                           "baseline_year": NULLABLE_INT, "source": {"type": "string"},
                           "values": {"type": "array", "items": {
                               "type": "object", "required": ["year", "target", "measured"],
                               "properties": {"year": {"type": "integer"},
                                              "target": {"type": ["number", "null"]},
                                              "measured": {"type": ["number", "null"]}}}},
                       }}},
                   "timeline": {"type": "array", "items": {
                       "type": "object", "required": ["at", "from", "to", "note"],
                       "properties": {"at": {"type": "string", "format": "date-time"},
                                      "from": {"type": "string"}, "to": {"type": "string"},
                                      "note": {"type": "string"}}}},
                   "council_avis": {"type": "array", "items": {
                       "type": "object",
                       "required": ["council_id", "council", "opinion", "rating", "text", "at"],
                       "properties": {
                           "council_id": {"type": "integer"}, "council": {"type": "string"},
                           "opinion": {"type": "string",
                                       "enum": ["favourable", "reserved", "unfavourable"]},
                           "rating": {"type": "integer", "minimum": 1, "maximum": 5},
                           "text": {"type": "string"},
                           "at": {"type": "string", "format": "date-time"}}}},
                   "evaluations": {"type": "array", "items": {
                       "type": "object",
                       "required": ["year", "outcome", "replaced_by_id", "reasons"],
                       "properties": {
                           "year": {"type": "integer"},
                           "outcome": {"type": "string",
                                       "enum": ["continue", "evolve", "replace", "stop"]},
                           "replaced_by_id": NULLABLE_INT, "reasons": {"type": "string"}}}},
               }},
}


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


# Vote results and published ballots (issue 5).
_INT = {"type": "integer"}
_RESULTS_ENVELOPE = {
    "type": "object",
    "required": ["envelope_id", "quartier", "budget_cents", "rule", "completion", "tie_break",
                 "vote_type", "ballots", "total_cost_cents", "winners", "explanations",
                 "comparison", "input_digest", "output_digest", "chain_head", "published_at"],
    "properties": {
        "envelope_id": _INT, "quartier": {"type": ["string", "null"]},
        "budget_cents": {"type": "integer", "minimum": 0},
        "rule": {"type": "string", "enum": ["greedy", "mes"]},
        "completion": {"type": "string"}, "tie_break": {"type": "string"},
        "vote_type": {"type": "string", "enum": ["approval", "cumulative"]},
        "ballots": {"type": "integer", "minimum": 0},
        "total_cost_cents": {"type": "integer", "minimum": 0},
        "winners": {"type": "array", "items": {
            "type": "object", "required": ["proposal_id", "title", "cost_cents", "votes",
                                           "score"],
            "properties": {"proposal_id": _INT, "title": {"type": "string"},
                           "cost_cents": _INT, "votes": _INT, "score": _INT}}},
        "explanations": {"type": "array", "items": {
            "type": "object",
            "required": ["proposal_id", "funded", "reason", "text", "cost_cents", "votes",
                         "score", "order", "funded_by_other_rule"],
            "properties": {"proposal_id": _INT, "funded": {"type": "boolean"},
                           "reason": {"type": "string", "description": "engine reason code"},
                           "text": {"type": "string"}, "cost_cents": _INT, "votes": _INT,
                           "score": _INT, "order": {"type": ["integer", "null"]},
                           "funded_by_other_rule": {"type": "boolean"}}}},
        "comparison": {"type": "array", "items": {
            "type": "object",
            "required": ["rule", "projects", "total_cost_cents", "voters",
                         "voters_with_a_funded_choice"],
            "properties": {"rule": {"type": "string"}, "projects": _INT,
                           "total_cost_cents": _INT, "voters": _INT,
                           "voters_with_a_funded_choice": _INT}}},
        "input_digest": {"type": "string"}, "output_digest": {"type": "string"},
        "chain_head": {"type": "string", "description": "final hash of the ballot list"},
        "published_at": {"type": ["string", "null"], "format": "date-time"},
    },
}
RESULTS_SCHEMAS: dict[str, Any] = {
    "CampaignResults": {
        "type": "object", "required": ["campaign_id", "published", "envelopes"],
        "properties": {"campaign_id": _INT, "published": {"type": "boolean"},
                       "envelopes": {"type": "array", "items": _RESULTS_ENVELOPE}}},
    "PublishedBallots": {
        "type": "object",
        "required": ["campaign_id", "envelope_id", "withheld", "chain_head", "total", "items",
                     "limit", "offset"],
        "properties": {
            "campaign_id": _INT, "envelope_id": _INT,
            "withheld": {"type": "boolean",
                         "description": "true when the envelope has fewer than 5 ballots"},
            "chain_head": {"type": "string"}, "total": {"type": "integer", "minimum": 0},
            "limit": _INT, "offset": _INT,
            "items": {"type": "array", "items": {
                "type": "object",
                "required": ["position", "lookup", "choices", "projects", "chain_link"],
                "properties": {
                    "position": {"type": "integer", "minimum": 1},
                    "lookup": {"type": "string", "description": "sha256 of the receipt"},
                    "choices": {"type": "string"},
                    "projects": {"type": "array", "items": {
                        "type": "object", "required": ["proposal_id", "points"],
                        "properties": {"proposal_id": _INT, "points": _INT}}},
                    "chain_link": {"type": "string"}}}},
        }},
}


def results_paths() -> dict[str, Any]:
    """The paths of the vote results (added to the document's paths)."""
    return {
        "/campaigns/{campaign_id}/results": _get(
            "A campaign's published results per envelope: rule, winners, explanations, "
            "greedy vs MES comparison", {"$ref": "#/components/schemas/CampaignResults"},
            params=[CAMPAIGN_ID], not_found=True),
        "/campaigns/{campaign_id}/ballots": _get(
            "The published anonymised ballots of one envelope, ordered by lookup, hash-chained",
            {"$ref": "#/components/schemas/PublishedBallots"},
            params=[CAMPAIGN_ID, *PAGING,
                    {"name": "envelope", "in": "query", "required": False,
                     "schema": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
                     "description": "envelope id (default: the city-wide one)"}],
            not_found=True),
    }


NULLABLE_TIME = {"type": ["string", "null"], "format": "date-time"}
_COUNCIL_PROPS = {
    "id": {"type": "integer"}, "name": {"type": "string"}, "quartier": NULLABLE_STR,
    "members": {"type": "object", "required": ["habitants", "associations"],
                "description": "Current members per collège",
                "properties": {"habitants": {"type": "integer", "minimum": 0},
                               "associations": {"type": "integer", "minimum": 0}}},
    "rules": {"type": "array", "items": {
        "type": "object", "required": ["rule", "ok", "detail"],
        "properties": {"rule": {"type": "string"}, "ok": {"type": "boolean"},
                       "detail": {"type": "string"}}}},
}
_INT_LIST_MAP = {"type": "object",
                 "additionalProperties": {"type": "array", "items": {"type": "integer"}}}
COUNCIL_SCHEMAS: dict[str, Any] = {
    "CouncilSummary": {"type": "object", "required": list(_COUNCIL_PROPS),
                       "properties": _COUNCIL_PROPS},
    "Council": {"type": "object",
                "required": [*_COUNCIL_PROPS, "member_list", "draws", "avis"],
                "properties": {
                    **_COUNCIL_PROPS, "description": {"type": "string"},
                    "member_list": {"type": "array", "items": {
                        "type": "object", "required": ["name", "college", "drawn"],
                        "properties": {
                            "name": {"type": "string", "description": "Published name"},
                            "college": {"type": "string",
                                        "enum": ["habitants", "associations"]},
                            "organisation": NULLABLE_STR, "drawn": {"type": "boolean"},
                            "term_start": {"type": "string", "format": "date"},
                            "term_end": {"type": ["string", "null"], "format": "date"}}}},
                    "draws": {"type": "array", "items": {
                        "type": "object",
                        "required": ["id", "at", "seed", "seats", "quotas", "volunteers",
                                     "drawn", "names"],
                        "description": "Re-run: within each stratum, sort the volunteer "
                                       "numbers by SHA-256('<seed>:<number>') ascending "
                                       "and take as many as the quota.",
                        "properties": {
                            "id": {"type": "integer"},
                            "at": {"type": "string", "format": "date-time"},
                            "seed": {"type": "string"}, "seats": {"type": "integer"},
                            "quotas": {"type": "object",
                                       "additionalProperties": {"type": "integer"}},
                            "volunteers": _INT_LIST_MAP, "drawn": _INT_LIST_MAP,
                            "outside_strata": {"type": "integer"},
                            "names": {"type": "array", "items": {"type": "string"}}}}},
                    "avis": {"type": "array", "items": {
                        "type": "object",
                        "required": ["action_id", "opinion", "rating", "text", "at"],
                        "properties": {
                            "action_id": {"type": "integer"},
                            "opinion": {"type": "string",
                                        "enum": ["favourable", "reserved", "unfavourable"]},
                            "rating": {"type": "integer", "minimum": 1, "maximum": 5},
                            "text": {"type": "string"},
                            "at": {"type": "string", "format": "date-time"}}}},
                }},
    "Call": {"type": "object",
             "required": ["id", "plan_id", "year", "title", "criteria",
                          "max_cofinancing_percent", "closes_on", "applications"],
             "properties": {
                 "id": {"type": "integer"}, "plan_id": {"type": "integer"},
                 "year": {"type": "integer"}, "title": {"type": "string"},
                 "criteria": {"type": "array", "items": {"type": "string"}},
                 "max_cofinancing_percent": {"type": "integer", "minimum": 1, "maximum": 100},
                 "closes_on": {"type": "string", "format": "date"},
                 "applications": {"type": "array", "items": {
                     "type": "object",
                     "required": ["id", "porteur", "title", "quartier", "budget_cents",
                                  "requested_cents", "avis", "decision", "decision_reasons"],
                     "properties": {
                         "id": {"type": "integer"}, "porteur": {"type": "string"},
                         "title": {"type": "string"}, "quartier": NULLABLE_STR,
                         "budget_cents": {"type": "integer", "minimum": 0},
                         "requested_cents": {"type": "integer", "minimum": 0},
                         "avis": {"type": "array", "items": {
                             "type": "object", "required": ["council_id", "opinion", "text"],
                             "properties": {"council_id": {"type": "integer"},
                                            "opinion": {"type": "string"},
                                            "text": {"type": "string"}}}},
                         "decision": {"type": ["string", "null"],
                                      "enum": ["selected", "not_selected", None]},
                         "decision_reasons": NULLABLE_STR}}},
             }},
    "Meeting": {"type": "object",
                "required": ["id", "council_id", "starts_at", "duration_minutes", "location",
                             "agenda", "convened", "attendance", "minutes",
                             "minutes_approved_at"],
                "properties": {
                    "id": {"type": "integer"}, "council_id": {"type": "integer"},
                    "starts_at": {"type": "string", "format": "date-time"},
                    "duration_minutes": {"type": "integer"},
                    "location": {"type": "string"}, "agenda": {"type": "string"},
                    "convened": {"type": "boolean"},
                    "attendance": {"type": ["object", "null"],
                                   "properties": {"present": {"type": "integer"},
                                                  "members": {"type": "integer"}}},
                    "minutes": {"type": ["string", "null"],
                                "description": "Published once approved by the council"},
                    "minutes_approved_at": NULLABLE_TIME}},
}


ETAG_HEADER = {"$ref": "#/components/headers/ETag"}
IF_NONE_MATCH = {"$ref": "#/components/parameters/IfNoneMatch"}


def _conditional_gets(doc: dict[str, Any]) -> dict[str, Any]:
    """Declare ETag / If-None-Match / 304 on every GET operation (every endpoint sets an ETag
    on its 200 answer and answers a matching If-None-Match with an empty 304)."""
    doc["components"]["headers"] = {"ETag": {
        "description": "Entity tag of the representation; send it back in If-None-Match",
        "schema": {"type": "string"}}}
    doc["components"]["parameters"] = {"IfNoneMatch": {
        "name": "If-None-Match", "in": "header", "required": False,
        "description": "ETag(s) of a representation the client already has: a match gets 304",
        "schema": {"type": "string"}}}
    for item in doc["paths"].values():
        op = item.get("get")
        if op is None:
            continue
        params = op.get("parameters", [])
        if IF_NONE_MATCH not in params:
            op["parameters"] = [*params, IF_NONE_MATCH]  # a copy: lists may be shared
        responses = op["responses"]
        if "200" in responses:
            responses["200"].setdefault("headers", {})["ETag"] = ETAG_HEADER
        responses["304"] = {"description": "Not modified: the If-None-Match ETag still "
                                           "matches (empty body)",
                            "headers": {"ETag": ETAG_HEADER}}
    return doc


def openapi_document() -> dict[str, Any]:
    """Build the document (cheap; cached by the client through its ETag)."""
    return _conditional_gets(_document())


def _document() -> dict[str, Any]:
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
                {"name": "commune", "in": "query", "required": False, "schema": TEXT_PARAM},
                {"name": "priority", "in": "query", "required": False,
                 "schema": {"type": "string", "enum": ["true", "false"]}},
            ]),
            "/quartiers/{code}": _get("One quartier", {"$ref": "#/components/schemas/Quartier"},
                                      params=[{"name": "code", "in": "path", "required": True,
                                               "schema": TEXT_PARAM}],
                                      not_found=True),
            "/plans": _get("Action plans", {
                "type": "object", "required": ["items"],
                "properties": {"items": {"type": "array",
                                         "items": {"$ref": "#/components/schemas/PlanSummary"}}},
            }),
            "/plans/{plan_id}": _get(
                "One action plan with its whole tree", {"$ref": "#/components/schemas/Plan"},
                params=[{"name": "plan_id", "in": "path", "required": True,
                         "schema": {"type": "integer", "minimum": 1,
                                    "maximum": 2147483647}}],
                not_found=True),
            "/actions/{action_id}": _get(
                "One action with its indicators and timeline",
                {"$ref": "#/components/schemas/Action"},
                params=[{"name": "action_id", "in": "path", "required": True,
                         "schema": {"type": "integer", "minimum": 1,
                                    "maximum": 2147483647}}],
                not_found=True),
            "/bienveilleurs/statistics": _get(
                "Bienveilleurs network statistics per quartier for a calendar year "
                "(counts under 5 are null)",
                {"$ref": "#/components/schemas/BienveilleursStatistics"},
                params=[{"name": "year", "in": "query", "required": False,
                         "schema": {"type": "integer", "minimum": 2000, "maximum": 2100}}]),
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
            "/councils": _get("Conseils citoyens", {
                "type": "object", "required": ["items"],
                "properties": {"items": {
                    "type": "array", "items": {"$ref": "#/components/schemas/CouncilSummary"}}},
            }),
            "/councils/{council_id}": _get(
                "One council: published member names, draw reports, avis",
                {"$ref": "#/components/schemas/Council"},
                params=[{"name": "council_id", "in": "path", "required": True,
                         "schema": {"type": "integer", "minimum": 1,
                                    "maximum": 2147483647}}],
                not_found=True),
            "/calls": _get("Yearly calls for projects with applications, avis, decisions", {
                "type": "object", "required": ["items"],
                "properties": {"items": {"type": "array",
                                         "items": {"$ref": "#/components/schemas/Call"}}},
            }),
            "/meetings": _get("Council meetings, latest first", {
                "type": "object", "required": ["items", "total", "limit", "offset"],
                "properties": {
                    "items": {"type": "array", "items": {"$ref": "#/components/schemas/Meeting"}},
                    "total": {"type": "integer", "minimum": 0},
                    "limit": {"type": "integer"}, "offset": {"type": "integer"},
                },
            }, params=[*PAGING, {"name": "council", "in": "query", "required": False,
                                 "schema": {"type": "integer", "minimum": 0,
                                            "maximum": 2147483647}}]),
            **results_paths(),
        },
        "components": {"schemas": {
            **ACTIONPLAN_SCHEMAS,
            **COUNCIL_SCHEMAS,
            **RESULTS_SCHEMAS,
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
                    "published_at": {"type": ["string", "null"], "format": "date-time",
                                     "description": "When these figures were frozen "
                                                    "(null: nothing published yet)"},
                    "revision": {"type": "integer", "minimum": 0,
                                 "description": "1 for the first publication; more when a "
                                                "coordinator published a revision"},
                    "suppression_threshold": {"type": "integer"},
                    "rounding_base": {"type": "integer", "minimum": 1,
                                      "description": "shown counts are multiples of it "
                                                     "(1 in releases made before rounding)"},
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
            "Campaign": CAMPAIGN_SCHEMA,
            "Proposal": PROPOSAL_SCHEMA,
        }},
    }
