"""An OpenAPI 3.1 description of the legacy surface the proxy serves, from the mapping table."""

from __future__ import annotations

import re
from typing import Any

from proxy import __version__
from proxy.mapping.table import Entry, Param
from proxy.path_templates import variables

_PARAM_SCHEMAS = {"int": {"type": "integer"}, "str": {"type": "string"}, "email": {"type": "string"}, "json": {"type": "string", "contentMediaType": "application/json"}}
_ERRORS = {
    "v1": {"type": "object", "required": ["status", "message"], "properties": {"status": {"type": "integer"}, "message": {"type": "string"}}},
    "v2": {"type": "object", "required": ["detail"], "properties": {"detail": {"type": "string"}}},
    "ajax": {"type": "object", "required": ["success"], "properties": {"success": {"const": False}, "errors": {"type": "array", "items": {"type": "string"}}}},
}
_PAGE = {
    "type": "object",
    "required": ["end", "object", "page_size", "start", "total", "data", "page"],
    "properties": {
        "object": {"const": "$list"},
        **{name: {"type": "integer"} for name in ("end", "page_size", "start", "total", "page")},
        "data": {"type": "array", "items": {"type": "object"}},
    },
}
_TIMELINE = {
    "type": "object",
    "required": ["object", "count", "data", "next"],
    "properties": {
        "object": {"const": "$list"},
        "count": {"type": "integer"},
        "data": {"type": "array", "items": {"type": "object"}},
        "next": {"type": ["string", "null"]},
    },
}
_MARKER = {
    "type": "object",
    "required": ["records"],
    "properties": {"records": {"type": "array", "items": {"type": "object"}}, "marker": {"type": "integer"}},
    "description": "`marker` is left out on the last batch.",
}
_SECURITY_SCHEMES = {
    "api_key_query": {"type": "apiKey", "in": "query", "name": "api_key", "description": "Private key (pk_…); v1 and v2."},
    "api_key_header": {"type": "apiKey", "in": "header", "name": "api-key", "description": "Private key; v2 routes."},
}


def legacy_openapi(entries: list[Entry]) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for entry in entries:
        for method in entry.methods:
            paths.setdefault(entry.path, {})[method.lower()] = _operation(entry, method)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Klaviyo v1/v2 API (served by klaviyo-legacy-proxy)",
            "version": __version__,
            "description": "The retired legacy surface, answered by translating to Klaviyo's current API.",
        },
        "servers": [{"url": "/"}],
        "paths": dict(sorted(paths.items())),
        "components": {"securitySchemes": _SECURITY_SCHEMES},
    }


def _operation(entry: Entry, method: str) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "operationId": _operation_id(method, entry.path),
        "summary": f"{method} {entry.path} → {', '.join(str(call) for call in entry.calls)}",
        "deprecated": True,
        "parameters": _path_parameters(entry) + [_query_parameter(param) for param in entry.params.values()],
        "responses": _responses(entry),
        "x-new-api-calls": [str(call) for call in entry.calls],
    }
    if entry.note:
        operation["description"] = entry.note
    if entry.chart:
        operation["x-comparison-chart"] = list(entry.chart)
    if entry.auth == "api_key":
        operation["security"] = [{"api_key_query": []}, {"api_key_header": []}] if entry.family == "v2" else [{"api_key_query": []}]
    else:
        operation["security"] = []
    if entry.auth == "token":
        operation["parameters"].append(
            {"name": "data", "in": "query", "required": False, "schema": {"type": "string"},
             "description": "Base64 JSON payload with the public `token` (GET), or a form field of raw JSON (POST)."}
        )  # fmt: skip
    return operation


def _operation_id(method: str, path: str) -> str:
    words = re.sub(r"[^a-z0-9]+", "_", path.lower().replace("{", "by_")).strip("_")
    return f"{method.lower()}_{words}"


def _path_parameters(entry: Entry) -> list[dict[str, Any]]:
    return [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"}}
        for name in variables(entry.path)
    ]


def _query_parameter(param: Param) -> dict[str, Any]:
    if param.type == "enum":
        schema: dict[str, Any] = {"type": "string", "enum": list(param.values)}
    elif param.type == "since":
        schema = {"oneOf": [{"type": "integer"}, {"type": "string"}]}
    else:
        schema = dict(_PARAM_SCHEMAS[param.type])
    if param.min is not None:
        schema["minimum"] = param.min
    if param.max is not None:
        schema["maximum"] = param.max
    if param.default is not None:
        schema["default"] = param.default
    return {"name": param.name, "in": "query", "required": param.required, "schema": schema}


def _responses(entry: Entry) -> dict[str, Any]:
    if entry.envelope == "one_zero":
        return {"200": {"description": "`1` accepted, `0` unreadable or not accepted", "content": {"text/html": {"schema": {"enum": ["1", "0"]}}}}}
    if entry.envelope == "empty":
        success: dict[str, Any] = {"description": "Empty body, no Content-Type"}
    else:
        schema = {"page_list": _PAGE, "timeline": _TIMELINE, "marker": _MARKER, "array": {"type": "array", "items": {"type": "object"}}}.get(
            entry.envelope, {"type": "object"}
        )
        success = {"description": "Legacy answer", "content": {"application/json": {"schema": schema}}}
    error = {"description": "Legacy error", "content": {"application/json": {"schema": _ERRORS[entry.family]}}}
    return {"200": success, "4XX": error, "5XX": error}
