"""Hypothesis strategies for the JSON:API resources the proxy reads, drawn from the
official spec's response schemas.

A resource schema is taken from the success answer of the operation the proxy calls,
its `$ref`s inlined and its OpenAPI 3.0 dialect (`nullable`, overlapping `oneOf`s)
turned into JSON Schema by the same conversion the contract check validates with. Two
things the spec says in other words are added: Klaviyo documents several timestamps
only in prose ("Creation time in ISO 8601 format") on a plain string, and those get the
`date-time` format they describe; and a resource in a server's answer always has a
string `id`, as JSON:API (the spec's media type) requires, though a few schemas shared
with create requests leave it optional or nullable.

The values come from schemathesis' JSON Schema generator, reached through its public
API: the schema becomes the request body of a one-operation document. (hypothesis-
jsonschema 0.23, the latest on PyPI, fails on current Hypothesis: `'many' object has no
attribute 'more'`; schemathesis carries a maintained copy.) Each resource then makes the
trip the proxy's input makes — JSON text, read back by orjson — and must pass the
contract check's validator.
"""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

import orjson
import schemathesis
from hypothesis import assume
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from schemathesis import GenerationMode

from proxy.openapi.schema import FORMAT_CHECKER, to_json_schema
from proxy.openapi.spec import Spec, default_spec_path

ISO_IN_WORDS = re.compile(r"ISO ?8601", re.IGNORECASE)
IDENTIFIED = {"required": ["id"], "properties": {"id": {"type": "string"}}}
# Where each resource comes from: the operation, then the path to the resource schema in
# its success answer ("items" steps into an array, a type name picks that member of the
# `included` union).
SOURCES: dict[str, tuple[str, tuple[str, ...]]] = {
    "metric": ("get_metrics", ("data", "items")),
    "event": ("get_events", ("data", "items")),
    "included metric": ("get_events", ("included", "items", "metric")),
    "included profile": ("get_events", ("included", "items", "profile")),
    "profile": ("get_profile", ("data",)),
    "profiles": ("get_profiles", ("data", "items")),
    "list member": ("get_profiles_for_list", ("data", "items")),
    "segment member": ("get_profiles_for_segment", ("data", "items")),
    "list": ("get_lists", ("data", "items")),
    "list detail": ("get_list", ("data",)),
    "segment": ("get_segments", ("data", "items")),
    "template": ("get_templates", ("data", "items")),
    "rendered template": ("render_template", ("data",)),
    "campaign": ("get_campaigns", ("data", "items")),
    "campaign-message": ("get_messages_for_campaign", ("data", "items")),
    "message template": ("get_messages_for_campaign", ("included", "items", "template")),
}


def resources(source: str) -> st.SearchStrategy[dict[str, Any]]:
    """Resources of one of SOURCES; the spec is read at the first draw, not at import."""
    return st.deferred(lambda: _resources(source))


@cache
def pinned_spec() -> Spec:
    return Spec.load(default_spec_path())


@cache
def _resources(source: str) -> st.SearchStrategy[dict[str, Any]]:
    schema = resource_schema(source)
    document = {
        "openapi": "3.1.0",
        "info": {"title": source, "version": pinned_spec().revision},
        "paths": {"/resource": {"post": {
            "requestBody": {"required": True, "content": {"application/json": {"schema": schema}}},
            "responses": {"200": {"description": "unused"}},
        }}},
    }  # fmt: skip
    bodies = schemathesis.openapi.from_dict(document)["/resource"]["POST"].as_strategy(generation_mode=GenerationMode.POSITIVE)
    validator = Draft202012Validator(schema, format_checker=FORMAT_CHECKER)  # as the contract check judges

    @st.composite
    def resource(draw: st.DrawFn) -> dict[str, Any]:  # a composite, so a failing example prints as data
        received = as_received(draw(bodies).body)
        assume(received is not None and validator.is_valid(received))
        return received

    return resource()


def as_received(value: Any) -> Any:
    """`value` as the proxy would read it off the wire; None if no JSON text can carry it."""
    try:
        return orjson.loads(json.dumps(value))
    except orjson.JSONDecodeError:  # a lone surrogate: no UTF-8 body holds one
        return None


def resource_schema(source: str) -> dict[str, Any]:
    spec = pinned_spec()
    operation_id, steps = SOURCES[source]
    responses = spec.by_id(operation_id).responses
    node: dict[str, Any] = next(schema for status, schema in responses.items() if status.startswith("2") and schema)
    for step in steps:
        node = inline(spec, node)
        node = node["items"] if step == "items" else node.get("properties", {}).get(step) or _member(spec, node, step)
    return {"allOf": [to_json_schema(inline(spec, node)), IDENTIFIED]}


def inline(spec: Spec, node: Any, seen: tuple[str, ...] = ()) -> Any:
    """`node` with every `$ref` replaced by what it names; a cycle ends in `{}` (anything)."""
    if isinstance(node, list):
        return [inline(spec, item, seen) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        ref = node["$ref"]
        if ref in seen:
            return {}
        siblings = {key: value for key, value in node.items() if key != "$ref"}
        return inline(spec, {**spec.resolve(node), **siblings}, (*seen, ref))
    inlined = {key: inline(spec, value, seen) for key, value in node.items()}
    if inlined.get("type") == "string" and "format" not in inlined and ISO_IN_WORDS.search(inlined.get("description", "")):
        inlined["format"] = "date-time"
    return inlined


def _member(spec: Spec, union: dict[str, Any], resource_type: str) -> dict[str, Any]:
    """The member of a `oneOf` of resources whose `type` is `resource_type`."""
    for member in union["oneOf"]:
        member = inline(spec, member)
        if resource_type in member["properties"]["type"].get("enum", ()):
            return member
    raise KeyError(f"no {resource_type} among {union}")
