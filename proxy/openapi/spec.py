"""The OpenAPI document as a set of operations, found by method and concrete path."""

from __future__ import annotations

import functools
import json
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import unquote

from jsonschema.protocols import Validator

from proxy.openapi.schema import SchemaCompiler
from proxy.revision import BETA_REVISION, PINNED_REVISION

# The official documents for the pinned revision ship inside the package (MIT, see
# klaviyo/LICENSE), so a bare clone, a wheel and the image all validate the same way.
PACKAGED_SPEC_DIRECTORY = Path(__file__).resolve().parent / "klaviyo"
STABLE_FILENAME = f"stable-{PINNED_REVISION}.json"
BETA_FILENAME = f"beta-{BETA_REVISION}.json"
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def default_spec_path(beta: bool = False) -> Path:
    """The pinned spec: `KLAVIYO_OPENAPI_SPEC` (`..._BETA_SPEC`) when set, else the packaged copy."""
    override = os.environ.get("KLAVIYO_OPENAPI_BETA_SPEC" if beta else "KLAVIYO_OPENAPI_SPEC")
    if override:
        return Path(override)
    return PACKAGED_SPEC_DIRECTORY / (BETA_FILENAME if beta else STABLE_FILENAME)


class SpecError(Exception):
    """The OpenAPI document cannot be read: one line naming the file and what is wrong."""


def pinned_spec(beta: bool = False) -> Spec:
    """The pinned revision's spec (or its beta spec), loaded once; a missing or unreadable
    file stops the caller instead of letting anything run unvalidated."""
    try:
        return Spec.load(default_spec_path(beta=beta))
    except SpecError as exc:
        variable = "KLAVIYO_OPENAPI_BETA_SPEC" if beta else "KLAVIYO_OPENAPI_SPEC"
        raise SpecError(f"{exc} ({variable} when set, else the packaged copy)") from None


@dataclass(frozen=True)
class RateLimit:
    burst: int  # requests per second
    steady: int  # requests per minute
    daily: int | None  # requests per day, for the few operations that have a daily cap


@dataclass(frozen=True)
class ConditionalRateLimit:
    """A lower tier an operation falls into when a query parameter asks for an expensive
    part (`additional-fields[list]=profile_count`, `include=list`). The spec states these
    only in the operation's description, never in `x-klaviyo-ratelimit`."""

    parameter: str  # e.g. "additional-fields[list]"
    value: str  # one of the parameter's comma-separated values, e.g. "profile_count"
    ratelimit: RateLimit

    def applies(self, query: Iterable[tuple[str, str]]) -> bool:
        return any(name == self.parameter and self.value in value.split(",") for name, value in query)


# "Rate limits when using the `additional-fields[list]=profile_count` parameter in your API
# request:<br>Burst: `1/s`<br>Steady: `15/m`" (the wording of every such description).
_CONDITIONAL_RATELIMIT = re.compile(
    r"Rate limits when using the `([^`=]+)=([^`]+)` parameter[^<]*<br>\s*Burst: `(\d+/s)`<br>\s*Steady: `(\d+/m)`"
)


def conditional_ratelimits(description: str, parameters: Iterable[dict[str, Any]] = ()) -> tuple[ConditionalRateLimit, ...]:
    return tuple(
        ConditionalRateLimit(parameter, _as_enumerated(parameter, value, parameters), parse_ratelimit({"burst": burst, "steady": steady}))
        for parameter, value, burst, steady in _CONDITIONAL_RATELIMIT.findall(description)
    )


def _as_enumerated(parameter: str, value: str, parameters: Iterable[dict[str, Any]]) -> str:
    """The value as the parameter's enum spells it: GET /api/profiles/{id} says `include=list`
    where the parameter only takes `lists` (the stricter reading: the tier applies to it)."""
    declared = next((p for p in parameters if p.get("in") == "query" and p.get("name") == parameter), {})
    enum = ((declared.get("schema") or {}).get("items") or {}).get("enum") or ()
    return f"{value}s" if value not in enum and f"{value}s" in enum else value


def parse_ratelimit(raw: Mapping[str, str]) -> RateLimit:
    """Read `x-klaviyo-ratelimit` such as {"burst": "10/s", "steady": "150/m", "daily": "150/d"}."""
    daily = raw.get("daily")
    return RateLimit(
        burst=_count_per(raw["burst"], "s"),
        steady=_count_per(raw["steady"], "m"),
        daily=_count_per(daily, "d") if daily is not None else None,
    )


def _count_per(text: str, unit: str) -> int:
    count, _, actual_unit = text.partition("/")
    if actual_unit != unit or not count.isdigit():
        raise ValueError(f"rate limit {text!r} is not of the form '<count>/{unit}'")
    return int(count)


class PageSize(NamedTuple):
    minimum: int
    maximum: int
    default: int


@dataclass(frozen=True)
class Operation:
    operation_id: str
    method: str  # upper case
    path: str  # the template, e.g. /api/profiles/{id}
    ratelimit: RateLimit | None
    filters: dict[str, Any] = field(repr=False)  # raw x-klaviyo-filters; {} when none
    parameters: list[dict[str, Any]] = field(repr=False)  # raw parameter objects
    needs_api_key: bool  # False for the public-key /client/ operations (`security: []`)
    request_body_required: bool
    request_content_types: tuple[str, ...]
    # Top-level $ref resolved; nested $refs still point into the spec (see Spec.resolve).
    request_schema: dict[str, Any] | None = field(repr=False)
    # Status key ("200", "4XX") -> schema as above; None when the response has no body.
    responses: dict[str, dict[str, Any] | None] = field(repr=False)
    pre_release: bool
    page_size: PageSize | None
    scopes: tuple[str, ...] = ()  # x-klaviyo-scopes: what a private key must be granted
    conditional_ratelimits: tuple[ConditionalRateLimit, ...] = ()  # lower tiers some query parameters select

    def parameter(self, location: str, name: str) -> dict[str, Any] | None:
        return next((p for p in self.parameters if p["in"] == location and p["name"] == name), None)

    def parameters_in(self, location: str) -> list[dict[str, Any]]:
        return [p for p in self.parameters if p["in"] == location]

    def path_params(self, concrete_path: str) -> dict[str, str]:
        """The decoded values of the template variables in a path this operation matches."""
        return {
            template[1:-1]: unquote(segment)
            for template, segment in zip(
                self.path.split("/"), concrete_path.split("/"), strict=True
            )
            if _is_variable(template)
        }


@dataclass(frozen=True, eq=False)
class Spec:
    revision: str
    source: Path
    document: dict[str, Any] = field(repr=False)
    operations: tuple[Operation, ...] = field(repr=False)
    _validators: dict[tuple[str, str], Validator] = field(default_factory=dict, repr=False)

    @staticmethod
    def load(path: str | os.PathLike[str]) -> Spec:
        try:
            return _load_resolved(Path(path).resolve())
        except (OSError, ValueError, KeyError, TypeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else f"not an OpenAPI document ({exc!r})"
            raise SpecError(f"OpenAPI document {path}: {reason}") from None

    def by_id(self, operation_id: str) -> Operation:
        try:
            return self._by_id[operation_id]
        except KeyError:
            raise KeyError(f"no operation {operation_id!r} in spec {self.revision}") from None

    def operation(self, method: str, path: str) -> Operation | None:
        """The operation serving a concrete (still percent-encoded) path.

        Literal segments beat variables position by position, as routers do, so a
        literal route is never shadowed by a templated sibling.
        """
        segments = path.split("/")
        candidates = [
            op
            for op in self._by_method.get(method.upper(), [])
            if _template_matches(op.path.split("/"), segments)
        ]
        return min(candidates, key=_variable_positions, default=None)

    def resolve(self, node: dict[str, Any]) -> dict[str, Any]:
        """The schema (or other object) a local `$ref` names; `node` itself when it is no `$ref`."""
        return _resolve(self.document, node)

    def request_validator(self, operation: Operation) -> Validator | None:
        if operation.request_schema is None:
            return None
        return self._cached_validator(operation, "request", operation.request_schema)

    def response_validator(self, operation: Operation, status_key: str) -> Validator | None:
        schema = operation.responses.get(status_key)
        if schema is None:
            return None
        return self._cached_validator(operation, status_key, schema)

    def _cached_validator(
        self, operation: Operation, purpose: str, schema: dict[str, Any]
    ) -> Validator:
        key = (operation.operation_id, purpose)
        if key not in self._validators:
            self._validators[key] = self._compiler.compile(schema)
        return self._validators[key]

    @functools.cached_property
    def _compiler(self) -> SchemaCompiler:
        return SchemaCompiler(self.document)

    @functools.cached_property
    def _by_id(self) -> dict[str, Operation]:
        return {op.operation_id: op for op in self.operations}

    @functools.cached_property
    def _by_method(self) -> dict[str, list[Operation]]:
        by_method: dict[str, list[Operation]] = {}
        for operation in self.operations:
            by_method.setdefault(operation.method, []).append(operation)
        return by_method


@functools.cache
def _load_resolved(path: Path) -> Spec:
    document = json.loads(path.read_bytes())
    return Spec(
        revision=_revision(document, path),
        source=path,
        document=document,
        operations=tuple(_read_operations(document)),
    )


def _revision(document: dict[str, Any], path: Path) -> str:
    version = document.get("info", {}).get("version")
    if version:
        return version
    found = re.search(r"\d{4}-\d{2}-\d{2}(\.\w+)?", path.name.removesuffix(".json"))
    return found.group(0) if found else path.stem


def _read_operations(document: dict[str, Any]) -> Iterator[Operation]:
    default_security = document.get("security", [])
    for template, path_item in document["paths"].items():
        shared_parameters = path_item.get("parameters", [])
        for method in HTTP_METHODS:
            if method in path_item:
                yield _operation(
                    document,
                    method,
                    template,
                    path_item[method],
                    shared_parameters,
                    default_security,
                )


def _operation(
    document: dict[str, Any],
    method: str,
    template: str,
    raw: dict[str, Any],
    shared_parameters: list[dict[str, Any]],
    default_security: list[Any],
) -> Operation:
    parameters = _merge_parameters(
        [_resolve(document, p) for p in shared_parameters],
        [_resolve(document, p) for p in raw.get("parameters", [])],
    )
    body = _resolve(document, raw["requestBody"]) if "requestBody" in raw else {}
    content = body.get("content", {})
    ratelimit = raw.get("x-klaviyo-ratelimit")
    return Operation(
        operation_id=raw["operationId"],
        method=method.upper(),
        path=template,
        ratelimit=parse_ratelimit(ratelimit) if ratelimit else None,
        filters=raw.get("x-klaviyo-filters") or {},
        parameters=parameters,
        needs_api_key=bool(raw.get("security", default_security)),
        request_body_required=bool(body.get("required")),
        request_content_types=tuple(content),
        request_schema=_first_schema(document, content),
        responses={
            status: _first_schema(document, _resolve(document, response).get("content", {}))
            for status, response in raw["responses"].items()
        },
        # The spec writes the string "None" for generally available operations.
        pre_release=raw.get("x-klaviyo-pre-release", "None") != "None",
        page_size=_page_size(parameters),
        scopes=tuple(raw.get("x-klaviyo-scopes") or ()),
        conditional_ratelimits=conditional_ratelimits(raw.get("description") or "", parameters),
    )


def _merge_parameters(
    shared: list[dict[str, Any]], own: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    # OpenAPI lets an operation override a path-level parameter with the same name and location.
    overridden = {(p["in"], p["name"]) for p in own}
    return [p for p in shared if (p["in"], p["name"]) not in overridden] + own


def _first_schema(document: dict[str, Any], content: dict[str, Any]) -> dict[str, Any] | None:
    for media in content.values():
        if "schema" in media:
            return _resolve(document, media["schema"])
    return None


def _resolve(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """Follow a local `$ref` chain to the object it names."""
    while "$ref" in node:
        node = _pointer(document, node["$ref"])
    return node


def _pointer(document: dict[str, Any], ref: str) -> Any:
    if not ref.startswith("#/"):
        raise ValueError(f"only local references are supported, got {ref!r}")
    node: Any = document
    for token in ref[2:].split("/"):
        node = node[token.replace("~1", "/").replace("~0", "~")]
    return node


def _page_size(parameters: list[dict[str, Any]]) -> PageSize | None:
    param = next((p for p in parameters if p["in"] == "query" and p["name"] == "page[size]"), None)
    if param is None:
        return None
    schema = param.get("schema", {})
    maximum = schema.get("maximum")
    if maximum is None:
        return None
    # Every page[size] in the pinned spec states all three; the fallbacks only keep a
    # revision that omits minimum or default loadable.
    return PageSize(schema.get("minimum", 1), maximum, schema.get("default", maximum))


def _is_variable(segment: str) -> bool:
    return segment.startswith("{") and segment.endswith("}")


def _template_matches(template: list[str], segments: list[str]) -> bool:
    return len(template) == len(segments) and all(
        segment != "" if _is_variable(part) else part == segment
        for part, segment in zip(template, segments, strict=True)
    )


def _variable_positions(operation: Operation) -> tuple[bool, ...]:
    return tuple(_is_variable(part) for part in operation.path.split("/"))
