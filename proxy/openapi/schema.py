"""OpenAPI 3.0 schema objects checked by JSON Schema 2020-12 validators.

Two rewrites make a schema mean in JSON Schema what it means in OpenAPI 3.0 and in
Klaviyo's practice:
- `nullable: true` becomes a union with null; OpenAPI 3.0 has no null type.
- `oneOf` becomes `anyOf`: several of Klaviyo's `oneOf`s have overlapping branches, so valid
  documents (the spec's own examples among them) match two branches and `oneOf` rejects them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.protocols import Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from proxy.openapi.datetimes import parse_datetime

SPEC_URI = "urn:klaviyo-openapi"

# Keywords that constrain every instance type, so a null alternative must sit beside them.
_APPLIES_TO_EVERY_TYPE = ("$ref", "allOf", "anyOf", "not")


def _parses_with(parse: Callable[[str], object]) -> Callable[[object], bool]:
    def check(value: object) -> bool:
        if isinstance(value, str):  # other types are the `type` keyword's business
            parse(value)
        return True

    return check


# Only the formats Klaviyo's schemas rely on, checked as leniently as Klaviyo parses them.
FORMAT_CHECKER = FormatChecker(formats=())
FORMAT_CHECKER.checks("date-time", raises=ValueError)(_parses_with(parse_datetime))
FORMAT_CHECKER.checks("date", raises=ValueError)(_parses_with(date.fromisoformat))


class SchemaCompiler:
    """Builds validators whose `$ref`s resolve into the spec's `components.schemas`."""

    def __init__(self, document: dict[str, Any]) -> None:
        schemas = document.get("components", {}).get("schemas", {})
        contents = {"components": {"schemas": {n: to_json_schema(s) for n, s in schemas.items()}}}
        resource = Resource.from_contents(contents, default_specification=DRAFT202012)
        self._registry: Registry = Registry().with_resource(SPEC_URI, resource)

    def compile(self, schema: dict[str, Any]) -> Validator:
        return Draft202012Validator(
            to_json_schema(schema), registry=self._registry, format_checker=FORMAT_CHECKER
        )


def to_json_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """A JSON Schema 2020-12 copy of an OpenAPI 3.0 schema object.

    Walks only schema-valued keywords, so `example` data and property names that happen
    to spell a keyword are copied untouched.
    """
    converted: dict[str, Any] = {}
    for keyword, value in schema.items():
        if keyword == "$ref":
            converted[keyword] = SPEC_URI + value
        elif keyword == "properties":
            converted[keyword] = {name: to_json_schema(s) for name, s in value.items()}
        elif keyword in ("items", "not", "additionalProperties") and isinstance(value, dict):
            converted[keyword] = to_json_schema(value)
        elif keyword in ("allOf", "anyOf"):
            converted[keyword] = [to_json_schema(s) for s in value]
        elif keyword == "oneOf":
            converted["anyOf"] = [to_json_schema(s) for s in value]
        elif keyword != "nullable":
            converted[keyword] = value
    return _or_null(converted) if schema.get("nullable") else converted


def _or_null(schema: dict[str, Any]) -> dict[str, Any]:
    if any(keyword in schema for keyword in _APPLIES_TO_EVERY_TYPE):
        return {"anyOf": [schema, {"type": "null"}]}
    if "type" in schema:
        schema["type"] = [schema["type"], "null"]
    if "enum" in schema:
        schema["enum"] = [*schema["enum"], None]
    return schema
