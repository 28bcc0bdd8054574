"""The organizers' wave API in the OpenAPI document (``web.openapi``): every field of a wave
request typed and bounded, so schemathesis (``tests/test_openapi.py``) sends both good requests
and every kind of bad one, with an organizer's token."""

from __future__ import annotations

from typing import Any

from actionwave.waves.launch import TRIGGERS


def _error(description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


AUTH_ERRORS = {"401": _error("No token, or not a live one."),
               "403": _error("The token's role or scopes do not allow this."),
               "503": _error("The database is unavailable.")}
STRING_LIST = {"type": "array", "items": {"type": "string"}}
WAVE_REQUEST = {
    "type": "object",
    "required": ["campaign", "name"],
    "properties": {
        "campaign": {"type": "string", "description": "The campaign's slug."},
        "name": {"type": "string", "minLength": 1, "maxLength": 200},
        "template": {"type": ["string", "null"], "description": "Default: `default`."},
        "segment": {"type": ["object", "null"], "additionalProperties": False, "properties": {
            "states": {**STRING_LIST, "description": "Two-letter codes."},
            "districts": {**STRING_LIST, "description": "STATE-NUMBER, e.g. CA-12."},
            "chamber": {"type": "string", "enum": ["house", "senate"]},
            "locale": {"type": "string", "enum": ["en", "zh-Hant"]},
            "acted": {"type": "boolean"},
            "since": {"type": "string", "format": "date-time"},
        }},
        "trigger": {"type": ["string", "null"], "enum": [*TRIGGERS, None]},
        "trigger_at": {"type": ["string", "null"], "format": "date-time",
                       "description": "With a time zone; required for the time trigger."},
        "trigger_stage": {"type": ["string", "null"],
                          "description": "A bill stage, optionally :house/:senate."},
        "pace_per_minute": {"type": ["integer", "null"], "minimum": 1},
    },
    "additionalProperties": False,
}
WAVE = {"type": "object", "required": ["id", "status"],
        "properties": {"id": {"type": "integer"}, "status": {"type": "string"}}}
WAVE_ID = {"name": "wave_id", "in": "path", "required": True,
           "schema": {"type": "integer", "minimum": 0}}
BEARER = [{"bearer": []}]

PATHS: dict[str, Any] = {
    "/api/v1/waves": {
        "get": {
            "operationId": "listWaves", "security": BEARER,
            "summary": "The newest waves, or with ?campaign= one campaign's (read scope).",
            "parameters": [{"name": "campaign", "in": "query", "required": False,
                            "schema": {"type": "string"}}],
            "responses": {"200": {"description": "The waves.", "content": {"application/json": {
                "schema": {"type": "object", "required": ["waves"],
                           "properties": {"waves": {"type": "array", "items": WAVE}}}}}},
                          "404": _error("No campaign has this slug."), **AUTH_ERRORS},
        },
        "post": {
            "operationId": "createWave", "security": BEARER,
            "summary": "Create a wave (write scope, organizer role).",
            "requestBody": {"required": True, "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/WaveRequest"}}}},
            "responses": {"201": {"description": "Created.", "content": {"application/json": {
                "schema": WAVE}}},
                          "400": _error("A field is missing or invalid; `field` names it."),
                          "404": _error("No campaign has this slug."),
                          "413": _error("The body is larger than the limit."),
                          **AUTH_ERRORS},
        },
    },
    "/api/v1/waves/{wave_id}": {
        "get": {
            "operationId": "getWave", "security": BEARER, "parameters": [WAVE_ID],
            "summary": "A wave's progress.",
            "responses": {"200": {"description": "The wave.", "content": {"application/json": {
                "schema": WAVE}}}, "404": _error("No such wave."), **AUTH_ERRORS},
        },
    },
}
SCHEMAS = {"WaveRequest": WAVE_REQUEST}
SECURITY_SCHEMES = {"bearer": {"type": "http", "scheme": "bearer",
                               "description": "An API token (console: API tokens)."}}
