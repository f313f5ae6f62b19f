"""Check one request or response against the operation the spec defines for it.

Every check returns human-readable violations, each starting with the operationId and
naming the header, parameter or JSON pointer at fault; an empty list means valid.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import orjson
from jsonschema.exceptions import ValidationError
from jsonschema.protocols import Validator

from proxy.openapi import filters
from proxy.openapi.spec import Operation, Spec

REVISION_FORMAT = re.compile(r"(\d{4}-\d{2}-\d{2})(\.\w+)?")
API_KEY_FORMAT = re.compile(r"Klaviyo-API-Key \S+")


def validate_request(
    spec: Spec,
    method: str,
    path: str,
    query: Sequence[tuple[str, str]],
    headers: Mapping[str, str],
    body: bytes | None,
) -> list[str]:
    operation = spec.operation(method, path)
    if operation is None:
        return [_unknown_operation(spec, method, path)]
    lowered = {name.lower(): value for name, value in headers.items()}
    problems = [
        *_header_problems(operation, lowered),
        *_auth_problems(operation, lowered),
        *_path_problems(operation, path),
        *_query_problems(operation, query),
        *_body_problems(spec, operation, path, lowered, body),
    ]
    return [f"{operation.operation_id}: {problem}" for problem in problems]


def validate_response(spec: Spec, method: str, path: str, status: int, body: bytes) -> list[str]:
    operation = spec.operation(method, path)
    if operation is None:
        return [_unknown_operation(spec, method, path)]
    return [
        f"{operation.operation_id}: {problem}"
        for problem in _response_problems(spec, operation, status, body)
    ]


def _unknown_operation(spec: Spec, method: str, path: str) -> str:
    return f"no operation for {method.upper()} {path} in spec {spec.revision}"


def _header_problems(operation: Operation, headers: Mapping[str, str]) -> list[str]:
    problems = [
        f"missing required header {param['name']!r}"
        for param in operation.parameters_in("header")
        if param.get("required") and param["name"].lower() not in headers
    ]
    revision = headers.get("revision")
    if revision is not None and not _is_revision(revision):
        problems.append(
            f"header 'revision' must be YYYY-MM-DD or YYYY-MM-DD.suffix, got {revision!r}"
        )
    return problems


def _is_revision(value: str) -> bool:
    found = REVISION_FORMAT.fullmatch(value)
    if found is None:
        return False
    try:
        date.fromisoformat(found.group(1))
    except ValueError:
        return False
    return True


def _auth_problems(operation: Operation, headers: Mapping[str, str]) -> list[str]:
    authorization = headers.get("authorization")
    if not operation.needs_api_key:
        if authorization is None:
            return []
        # Client endpoints run in browsers: a private key sent there would be leaked.
        return [
            "client operation must not send an Authorization header (public key goes in company_id)"
        ]
    if authorization is None:
        return ["missing header 'Authorization' (expected 'Klaviyo-API-Key <private key>')"]
    if not API_KEY_FORMAT.fullmatch(authorization):
        # Name only the scheme: the rest may be a secret that must not reach logs.
        scheme = authorization.split(" ", 1)[0]
        return [
            f"header 'Authorization' must be 'Klaviyo-API-Key <private key>', got scheme {scheme!r}"
        ]
    return []


def _path_problems(operation: Operation, path: str) -> list[str]:
    values = operation.path_params(path)
    return [
        problem
        for param in operation.parameters_in("path")
        if param["name"] in values
        for problem in _parameter_problems("path parameter", param, values[param["name"]])
    ]


def _query_problems(operation: Operation, query: Sequence[tuple[str, str]]) -> list[str]:
    declared = {param["name"]: param for param in operation.parameters_in("query")}
    given = Counter(name for name, _ in query)
    problems = [
        f"query parameter {name!r} given {count} times"
        for name, count in given.items()
        if count > 1
    ]
    problems += [
        f"missing required query parameter {name!r}"
        for name, param in declared.items()
        if param.get("required") and name not in given
    ]
    for name, value in query:
        param = declared.get(name)
        if param is None:
            known = ", ".join(sorted(declared)) or "none"
            problems.append(f"unknown query parameter {name!r} (declared: {known})")
            continue
        problems += _parameter_problems("query parameter", param, value)
        if name == "filter" and value:
            problems += [
                f"query parameter 'filter': {p}" for p in _filter_problems(operation, value)
            ]
    return problems


def _filter_problems(operation: Operation, expression: str) -> list[str]:
    try:
        conditions = filters.parse(expression)
    except filters.FilterError as error:
        return [str(error)]
    return filters.check(conditions, operation.filters)


def _parameter_problems(kind: str, param: Mapping[str, Any], raw: str) -> list[str]:
    schema = param.get("schema", {})
    label = f"{kind} {param['name']!r}"
    if schema.get("type") != "array":
        return [f"{label}: {p}" for p in _scalar_problems(raw, schema)]
    # Every array parameter in the spec is `explode: false`: one comma-separated value.
    items = raw.split(",")
    return [
        f"{label}: {p}" for item in items for p in _scalar_problems(item, schema.get("items", {}))
    ]


def _scalar_problems(raw: str, schema: Mapping[str, Any]) -> list[str]:
    if raw == "":
        return ["empty value"]
    if schema.get("type") == "integer":
        return _integer_problems(raw, schema)
    if "enum" in schema and raw not in schema["enum"]:
        return [f"{raw!r} is not one of {', '.join(map(repr, schema['enum']))}"]
    return []


def _integer_problems(raw: str, schema: Mapping[str, Any]) -> list[str]:
    try:
        number = int(raw)
    except ValueError:
        return [f"{raw!r} is not an integer"]
    if "minimum" in schema and number < schema["minimum"]:
        return [f"{number} is below the minimum {schema['minimum']}"]
    if "maximum" in schema and number > schema["maximum"]:
        return [f"{number} is above the maximum {schema['maximum']}"]
    return []


def _body_problems(
    spec: Spec, operation: Operation, path: str, headers: Mapping[str, str], body: bytes | None
) -> list[str]:
    if not body:
        return ["missing request body"] if operation.request_body_required else []
    if not operation.request_content_types:
        return [f"{operation.method} {operation.path} takes no request body, got {len(body)} bytes"]
    media_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type not in operation.request_content_types:
        expected = " or ".join(operation.request_content_types)
        return [f"header 'Content-Type' must be {expected}, got {media_type or 'none'!r}"]
    validator = spec.request_validator(operation)
    if validator is None or not media_type.endswith("json"):
        return []  # a multipart upload: only its media type is checked
    document, problems = _parse_json("request body", body)
    if problems:
        return problems
    return _schema_problems("request body", validator, document) + _id_problems(
        spec, operation, path, document
    )


def _id_problems(spec: Spec, operation: Operation, path: str, document: Any) -> list[str]:
    """A PATCH of /things/{id} must name the same resource in /data/id.

    Relationship PATCHes (/things/{id}/relationships/x) carry the *related* id in
    data.id, so only paths that end in {id} are checked.
    """
    if operation.method != "PATCH" or not operation.path.endswith("/{id}"):
        return []
    data_schema = spec.resolve(operation.request_schema or {}).get("properties", {}).get("data", {})
    if "id" not in spec.resolve(data_schema).get("properties", {}):
        return []
    data = document.get("data") if isinstance(document, dict) else None
    body_id = data.get("id") if isinstance(data, dict) else None
    path_id = operation.path_params(path)["id"]
    if body_id is None or body_id == path_id:
        return []
    return [f"request body /data/id: {body_id!r} does not match the path id {path_id!r}"]


def _response_problems(spec: Spec, operation: Operation, status: int, body: bytes) -> list[str]:
    status_key = _status_key(operation, status)
    if status_key is None:
        return [f"status {status} is not declared (declared: {', '.join(operation.responses)})"]
    validator = spec.response_validator(operation, status_key)
    if validator is None:
        return [f"{status} response declares no body, got {len(body)} bytes"] if body else []
    if not body:
        return [f"{status} response must have a JSON body, got none"]
    document, problems = _parse_json(f"{status} response body", body)
    if problems:
        return problems
    return _schema_problems(f"{status} response body", validator, document)


def _status_key(operation: Operation, status: int) -> str | None:
    for key in (str(status), f"{status // 100}XX", "default"):
        if key in operation.responses:
            return key
    return None


def _parse_json(where: str, body: bytes) -> tuple[Any, list[str]]:
    try:
        return orjson.loads(body), []
    except orjson.JSONDecodeError as error:
        return None, [f"{where} is not valid JSON: {error}"]


def _schema_problems(where: str, validator: Validator, document: Any) -> list[str]:
    errors = sorted(validator.iter_errors(document), key=_pointer)
    return [_describe_error(where, _most_specific(error)) for error in errors]


def _most_specific(error: ValidationError) -> ValidationError:
    """Follow an anyOf failure into the one branch that got furthest into the document.

    That branch is the one the sender meant (e.g. the `channel: "email"` definition), so its
    error is the useful one. When several branches got equally far there is no telling.
    """
    while error.context:
        furthest: dict[Any, tuple[int, ValidationError]] = {}
        for candidate in error.context:
            branch = candidate.relative_schema_path[0]
            reach = _reach(candidate)
            if branch not in furthest or reach > furthest[branch][0]:
                furthest[branch] = (reach, candidate)
        best = max(reach for reach, _ in furthest.values())
        leaders = [candidate for reach, candidate in furthest.values() if reach == best]
        if len(leaders) > 1 or best <= len(error.absolute_path):
            break
        error = leaders[0]
    return error


def _reach(error: ValidationError) -> int:
    return max([len(error.absolute_path), *map(_reach, error.context)])


def _describe_error(where: str, error: ValidationError) -> str:
    pointer = _pointer(error)
    location = f"{where} {pointer}" if pointer else where
    if not error.context:
        return f"{location}: {error.message}"
    alternatives = sorted({_relative_message(error, e) for e in error.context})
    return f"{location}: matches none of the alternatives ({'; '.join(alternatives)})"


def _relative_message(parent: ValidationError, error: ValidationError) -> str:
    inner = _pointer(error)[len(_pointer(parent)) :]
    return f"{inner}: {error.message}" if inner else error.message


def _pointer(error: ValidationError) -> str:
    return "".join(
        "/" + str(token).replace("~", "~0").replace("/", "~1") for token in error.absolute_path
    )
