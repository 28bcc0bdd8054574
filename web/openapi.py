"""The public API described as OpenAPI 3.1, served at ``/api/v1/openapi.json``.

Written by hand so it states promises, not implementation: what a client may send, every status it
may receive, and that every error is the same small JSON body. ``tests/test_openapi.py`` runs
schemathesis against the live app to hold the app to this document.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify

from actionwave.cwc.message import PREFIXES
from actionwave.mail.consent import CONSENT_TEXT
from web import openapi_waves

bp = Blueprint("openapi", __name__)


def _error(description: str, retry_after: bool = False) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    if retry_after:
        response["headers"] = {"Retry-After": {
            "description": "Seconds to wait before trying again.",
            "schema": {"type": "string"}}}
    return response


NAME = {"type": "string", "minLength": 1, "maxLength": 100}
SUBMISSION = {
    "type": "object",
    "required": ["email", "first_name", "last_name", "zip"],
    "properties": {
        "email": {"type": "string", "format": "email", "maxLength": 254},
        "first_name": NAME,
        "last_name": NAME,
        "zip": {"type": "string", "pattern": r"^\d{5}(-\d{4})?$"},
        "prefix": {"type": "string", "enum": list(PREFIXES), "description": (
            "Required, with address and city, when the campaign writes to the House and CWC "
            "is configured (the House's CWC system requires them).")},
        "address": {"type": "string", "maxLength": 200},
        "city": {"type": "string", "maxLength": 100},
        "state": {"type": "string", "description": "Two-letter USPS code."},
        "message": {"type": "string", "maxLength": 5000},
        "locale": {"type": "string", "enum": ["en", "zh-Hant"]},
        "consent": {"type": ["boolean", "string"], "description": (
            "Opt-in to this campaign's mail (true/false, on/off, 1/0), recorded with the time, "
            "source `api` and the text below in the submission's `locale`: show your supporters "
            f"exactly that text. en: \"{CONSENT_TEXT['en']}\" zh-Hant: "
            f"\"{CONSENT_TEXT['zh-Hant']}\" Consent is per campaign; once withdrawn (the "
            "unsubscribe link of the campaign's mail), a later submission does not renew it.")},
        "district": {"type": ["integer", "string"], "description": "A chosen House district."},
        "website": {"type": "string", "description": "Honeypot: leave empty."},
    },
    "additionalProperties": False,
}
PERSON = {"type": "object", "description": "A legislator (name, party, contact, office ids)."}

DOCUMENT: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "Actionwave public API",
        "version": "1",
        "description": (
            "Submit a supporter's action for a campaign, follow its progress, and look up "
            "legislators. Every error is `{\"error\": {\"field\": ..., \"message\": ...}}`. "
            "Submissions are limited per client address and per email (429 with Retry-After)."
        ),
        "license": {"name": "MIT", "identifier": "MIT"},
    },
    "paths": {
        "/api/v1/campaigns/{slug}/actions": {
            "post": {
                "operationId": "submitAction",
                "summary": "Submit an action; it is stored before the answer (202).",
                "parameters": [{"name": "slug", "in": "path", "required": True,
                                "schema": {"type": "string", "minLength": 1}}],
                "requestBody": {"required": True, "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/Submission"}},
                    "application/x-www-form-urlencoded": {
                        "schema": {"$ref": "#/components/schemas/Submission"}},
                }},
                "responses": {
                    "202": {
                        "description": "Stored (or a repeat of a stored submission today).",
                        "headers": {"Location": {"schema": {"type": "string"}}},
                        "content": {"application/json": {
                            "schema": {"$ref": "#/components/schemas/Accepted"}}},
                    },
                    "400": _error("Malformed body, a repeated field, or a file upload."),
                    "404": _error("No active campaign has this slug."),
                    "413": _error("The body is larger than MAX_BODY_BYTES."),
                    "415": _error("Neither JSON nor a form."),
                    "422": _error("A field is missing or invalid; `field` names it."),
                    "429": _error("Too many submissions from this address or email.", True),
                    "503": _error("The database is unavailable; nothing was stored.", True),
                },
            },
        },
        "/api/v1/actions/{action_id}": {
            "get": {
                "operationId": "getAction",
                "summary": "An action's progress; no supporter data.",
                "parameters": [{"name": "action_id", "in": "path", "required": True,
                                "schema": {"type": "string"}}],
                "responses": {
                    "200": {"description": "The action.", "content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/ActionStatus"}}}},
                    "404": _error("No such action."),
                    "503": _error("The database is unavailable.", True),
                },
            },
        },
        "/api/v1/legislators": {
            "get": {
                "operationId": "getLegislators",
                "summary": "The senators and representatives for a ZIP (and optional address).",
                "parameters": [
                    {"name": "zip", "in": "query", "required": True,
                     "schema": {"type": "string", "pattern": r"^\d{5}(-\d{4})?$"}},
                    {"name": "address", "in": "query", "required": False,
                     "schema": {"type": "string"},
                     "description": "Street address, to settle a ZIP split between districts."},
                ],
                "responses": {
                    "200": {
                        "description": "The legislators; `ambiguous` when the ZIP spans districts.",
                        "headers": {"ETag": {"schema": {"type": "string"}}},
                        "content": {"application/json": {
                            "schema": {"$ref": "#/components/schemas/Legislators"}}},
                    },
                    "304": {"description": "Not modified (If-None-Match)."},
                    "400": _error("The ZIP or address is not valid; `field` names it."),
                    "404": _error("The ZIP is not in our ZIP-to-district data."),
                    "429": _error("Too many lookups from this address.", True),
                    "503": _error("Legislator data is not loaded yet.", True),
                },
            },
        },
        **openapi_waves.PATHS,
    },
    "components": {"securitySchemes": openapi_waves.SECURITY_SCHEMES, "schemas": {
        **openapi_waves.SCHEMAS,
        "Error": {
            "type": "object",
            "required": ["error"],
            "properties": {"error": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {"field": {"type": ["string", "null"]},
                               "message": {"type": "string"}},
            }},
        },
        "Submission": SUBMISSION,
        "Accepted": {
            "type": "object",
            "required": ["id", "status", "status_url", "created"],
            "properties": {"id": {"type": "string", "format": "uuid"},
                           "status": {"type": "string"},
                           "status_url": {"type": "string"},
                           "created": {"type": "boolean"}},
        },
        "ActionStatus": {
            "type": "object",
            "required": ["id", "status", "created_at", "targets", "deliveries"],
            "properties": {
                "id": {"type": "string", "format": "uuid"},
                "status": {"type": "string"},
                "created_at": {"type": "string"},
                "resolved_at": {"type": ["string", "null"]},
                "targets": {"type": "array", "items": {"type": "object"}},
                "deliveries": {"type": "object", "description": "channel -> state -> count"},
                "error": {"type": ["string", "null"]},
            },
        },
        "Legislators": {
            "type": "object",
            "required": ["zip", "ambiguous", "districts", "senators", "representatives"],
            "properties": {
                "zip": {"type": "string"},
                "ambiguous": {"type": "boolean"},
                "districts": {"type": "array", "items": {"type": "object"}},
                "senators": {"type": "array", "items": PERSON},
                "representatives": {"type": "array", "items": PERSON},
            },
        },
    }},
}


@bp.get("/openapi.json")
def openapi_document() -> Response:
    response = jsonify(DOCUMENT)
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
