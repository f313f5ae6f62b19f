"""JSON schema of one mapping entry in mappings/*.yaml."""

from __future__ import annotations

_METHODS = "GET|POST|PUT|PATCH|DELETE"
_ENDPOINT = rf"^({_METHODS})(\|({_METHODS}))* /[^\s]*$"
_NEW_CALL = rf"^({_METHODS}) /(api|client)/[^\s?]*$"

PARAM = {
    "type": "object",
    "additionalProperties": False,
    "required": ["type"],
    "properties": {
        "type": {"enum": ["int", "str", "email", "enum", "json", "since"]},
        "default": {},
        "min": {"type": "integer"},
        "max": {"type": "integer"},
        "values": {"type": "array", "items": {"type": "string"}, "minItems": 1},
        "required": {"type": "boolean"},
        "doc": {"type": "string"},
    },
}

_PLACEHOLDER = r"^[A-Z][A-Z0-9_]*$"

# A body leaf "{params.NAME}" or "{path.NAME}" (optionally "|conversion") inserts that value.
BODY = {
    "description": (
        "the call's JSON:API body: a leaf \"{params.NAME}\" or \"{path.NAME}\" (the whole string) inserts"
        " that legacy value with its type, after a `|conversion` when one is named; an absent value leaves"
        " its key out; every other leaf is a constant"
    ),
    "type": "object",
}

STEP = {
    "description": "one call of a declared sequence; each starts after the one before succeeded",
    "type": "object",
    "additionalProperties": False,
    "required": ["call", "does"],
    "properties": {
        "call": {"type": "string", "pattern": _NEW_CALL},
        "does": {"type": "string", "description": "what the step does, named in a failure after earlier changes; {var} is a legacy path variable"},
        "path_params": {"type": "object", "additionalProperties": {"type": "string"}},
        "query": {"type": "object", "additionalProperties": {"type": "string"}},
        "body": BODY,
    },
}

MIGRATION_STEP = {
    "description": "one SDK call of the migration snippet, language-neutral",
    "type": "object",
    "additionalProperties": False,
    "required": ["operation"],
    "properties": {
        "operation": {"type": "string", "pattern": r"^[a-z][a-z0-9_]*$", "description": "the spec's operationId"},
        "why": {"type": "string", "description": "a comment above the call"},
        "path": {
            "description": "path variable -> placeholder or saved name",
            "type": "object",
            "additionalProperties": {"type": "string", "pattern": _PLACEHOLDER},
        },
        "query": {
            "description": "query parameter (as the spec names it) -> value; {NAME} interpolates",
            "type": "object",
            "additionalProperties": {"type": ["string", "integer", "array"]},
        },
        "body": {"type": "object", "description": "the JSON:API document; {NAME} interpolates"},
        "pages": {"type": "boolean", "description": "follow links.next to the last page"},
        "show": {"type": "array", "items": {"type": "string"}, "description": "paths printed per resource"},
        "save": {
            "description": "NAME -> path in the answer, kept for later steps",
            "type": "object",
            "propertyNames": {"pattern": _PLACEHOLDER},
            "additionalProperties": {"type": "string"},
        },
    },
}

MIGRATION = {
    "description": "what a caller changes to call the new API directly (migration-plan)",
    "type": "object",
    "additionalProperties": False,
    "required": ["params", "fields", "differences", "steps"],
    "properties": {
        "params": {
            "description": "every legacy parameter -> what it becomes",
            "type": "object",
            "additionalProperties": {"type": "string"},
        },
        "fields": {
            "description": "every legacy answer field -> where it lives in the JSON:API answer",
            "type": "object",
            "additionalProperties": {"type": "string"},
        },
        "differences": {"type": "array", "minItems": 1, "items": {"type": "string"}},
        "placeholders": {
            "description": "id placeholders of the snippet -> what to put there",
            "type": "object",
            "propertyNames": {"pattern": _PLACEHOLDER},
            "additionalProperties": {"type": "string"},
        },
        "sandbox": {
            "description": "why the test suite cannot run the snippet against the sandbox (absent: it runs)",
            "type": "string",
        },
        "steps": {"type": "array", "minItems": 1, "items": MIGRATION_STEP},
    },
}

ENTRY = {
    "type": "object",
    "additionalProperties": False,
    "required": ["chart", "legacy", "auth", "calls", "respond"],
    "properties": {
        "chart": {
            "description": "comparison-chart rows this entry implements ([] only with `beyond_chart`)",
            "type": "array",
            "items": {"type": "string"},
        },
        "beyond_chart": {
            "description": "why a route outside the chart is served",
            "type": "string",
        },
        "legacy": {"type": "string", "pattern": _ENDPOINT},
        "auth": {"enum": ["api_key", "token", "none"]},
        "revision": {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}(\.pre)?$"},
        "calls": {
            "description": "every new-API operation this entry may send",
            "type": "array",
            "minItems": 1,
            "items": {"type": "string", "pattern": _NEW_CALL},
        },
        "handler": {"type": "string", "pattern": r"^[a-z_]+\.[a-z_]+$"},
        "query": {"type": "object", "additionalProperties": {"type": "string"}},
        "path_params": {
            "description": "the new-API call's path variables, from the legacy path's: {id: '{person_id}'}",
            "type": "object",
            "additionalProperties": {"type": "string"},
        },
        "filter": {"type": "array", "items": {"type": "string"}},
        "body": BODY,
        "sequence": {
            "description": "the calls made one after another, instead of the entry's one call",
            "type": "array",
            "minItems": 2,
            "items": STEP,
        },
        "answer": {
            "description": "which step of the sequence (from 1) the answer is shaped from (default: the last)",
            "type": "integer",
            "minimum": 1,
        },
        "match": {
            "description": (
                "the people the request names (emails, phone_numbers, push_tokens, profiles), found in the"
                " one call's collection by filtered reads; at_most caps each identifier's values"
            ),
            "type": "object",
            "additionalProperties": False,
            "properties": {"at_most": {"type": "integer", "minimum": 1}},
        },
        "lookup": {
            "description": "find one profile by whichever one of these legacy params is given: {param: profile field}",
            "type": "object",
            "minProperties": 1,
            "additionalProperties": {"type": "string", "pattern": r"^[a-z_]+$"},
        },
        "params": {"type": "object", "additionalProperties": PARAM},
        "paginate": {
            "description": "none: one call; all: every page, as a bare array; page_list: v1 page/count; timeline: since/next",
            "enum": ["none", "all", "page_list", "timeline"],
        },
        "respond": {
            "type": "object",
            "additionalProperties": False,
            "required": ["envelope"],
            "properties": {
                "envelope": {"enum": ["object", "array", "page_list", "timeline", "marker", "one_zero", "empty"]},
                "shape": {"type": "string", "pattern": r"^[a-z_]+\.[a-z_]+$"},
            },
        },
        "note": {"type": "string"},
        "coverage": {
            "description": "how faithfully the legacy answer can be given (default exact)",
            "enum": ["exact", "approximated", "no_equivalent"],
        },
        "example": {
            "description": "a sample legacy request (api_key added by tools), for explain, docs and tests",
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "path": {"type": "string", "pattern": "^/"},
                "query": {"type": "object", "additionalProperties": {"type": "string"}},
                "body": {"type": "string"},
            },
        },
        "migration": MIGRATION,
    },
}
