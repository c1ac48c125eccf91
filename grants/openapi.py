"""The website API's OpenAPI 3.1 document, served at /api/v1/openapi.json."""

from __future__ import annotations

from typing import Any

from grants.forms import FIELDS
from grants.models import Status

MONEY = {
    "type": "string",
    "pattern": r"^(0|[1-9][0-9]{0,8})(\.[0-9]{1,2})?$",
    "examples": ["1250.00"],
}

APPLICATION_IN: dict[str, Any] = {
    "type": "object",
    "required": list(FIELDS),
    "properties": {
        "lodge_number": {"oneOf": [{"type": "integer", "minimum": 1, "maximum": 99999}, {"type": "string", "pattern": "^[1-9][0-9]{0,4}$"}]},
        "contact_name": {"type": "string", "minLength": 1, "maxLength": 200},
        "contact_email": {"type": "string", "format": "email", "maxLength": 254},
        "charity_name": {"type": "string", "minLength": 1, "maxLength": 200},
        "purpose": {"type": "string", "minLength": 1, "maxLength": 2000},
        "amount_raised": {**MONEY, "description": "The lodge's share: $1.00 to $1,000,000.00."},
        "amount_requested": {**MONEY, "description": "The match: $1.00 to the cap, at most amount_raised x ratio."},
        "event_date": {"type": "string", "format": "date", "description": "Within a year of today."},
    },
}  # fmt: skip

_APPLICATION_OUT_PROPERTIES: dict[str, Any] = {
    "reference": {"type": "string", "examples": ["MG-2026-00042"]},
    "status": {"enum": [status.value for status in Status]},
    "fiscal_year": {"type": "string", "examples": ["FY 2026-27"]},
    "explanation": {"type": "string"},
    "cap": {"type": ["string", "null"]},
    "used": {"type": ["string", "null"]},
    "remaining": {
        "type": ["string", "null"],
        "description": "What remained of the cap at the decision; never below 0.00.",
    },
    "over_cap_by": {
        "type": ["string", "null"],
        "description": "How far the lodge was over a (lowered) cap at the decision; 0.00 if not.",
    },
    "payment_url": {"type": ["string", "null"], "format": "uri"},
    "lodge_left": {
        "type": ["object", "null"],
        "description": "What the lodge has left now (as the apply form shows it).",
        "required": ["amount", "fiscal_year", "until", "sentence"],
        "properties": {
            "amount": {"type": "string", "examples": ["653.25"]},
            "fiscal_year": {"type": "string", "examples": ["FY 2026-27"]},
            "until": {"type": "string", "format": "date"},
            "sentence": {"type": "string"},
        },
    },
    "what_next": {"type": "string", "description": "What the lodge may do next (rejections)."},
    "apply_for": {
        "type": ["string", "null"],
        "description": "A rejection for asking more than remains: the match to apply for instead.",
    },
}

APPLICATION_OUT: dict[str, Any] = {
    "type": "object",
    "required": list(_APPLICATION_OUT_PROPERTIES),
    "properties": _APPLICATION_OUT_PROPERTIES,
}

ERROR: dict[str, Any] = {
    "type": "object",
    "required": ["message", "errors"],
    "properties": {
        "message": {"type": "string"},
        "errors": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
    },
}


def _reply(description: str, schema: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
    }


OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "Grants portal: applications API", "version": "1.0.0"},
    "servers": [{"url": "/"}],
    "security": [{"bearer": []}],
    "paths": {
        "/api/v1/applications": {
            "post": {
                "summary": "Submit an application; it is decided at once.",
                "parameters": [{"name": "Idempotency-Key", "in": "header", "required": False, "schema": {"type": "string", "maxLength": 200}}],
                "requestBody": {"required": True, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ApplicationIn"}}}},
                "responses": {
                    "201": _reply("Received and decided (approved, rejected or needs_review).", "ApplicationOut"),
                    "400": _reply("Invalid input; nothing was stored.", "Error"),
                    "401": _reply("No or a wrong token.", "Error"),
                    "409": _reply("The same Idempotency-Key is still being processed.", "Error"),
                    "422": _reply("The Idempotency-Key was used with another body.", "Error"),
                    "429": _reply("Too many requests for this token.", "Error"),
                },
            }
        },
        "/api/v1/applications/{reference}": {
            "get": {
                "summary": "An application's current state.",
                "parameters": [{"name": "reference", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": {
                    "200": _reply("The application.", "ApplicationOut"),
                    "401": _reply("No or a wrong token.", "Error"),
                    "404": _reply("No application with this reference came through the API.", "Error"),
                    "429": _reply("Too many requests for this token.", "Error"),
                },
            }
        },
    },
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        "schemas": {"ApplicationIn": APPLICATION_IN, "ApplicationOut": APPLICATION_OUT, "Error": ERROR},
    },
}  # fmt: skip
