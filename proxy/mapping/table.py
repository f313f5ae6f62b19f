"""Plain data for one mapping entry, and the loader that builds them from YAML."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

import yaml
from jsonschema import Draft202012Validator

from proxy.mapping.schema import ENTRY
from proxy.path_templates import operation_key
from proxy.revision import PINNED_REVISION

_VALIDATOR = Draft202012Validator(ENTRY)


class MappingError(Exception):
    """A mapping file is invalid; the message names file, entry and field."""


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    type: str
    default: Any = None
    min: int | None = None
    max: int | None = None
    values: tuple[str, ...] = ()
    required: bool = False


@dataclass(frozen=True, slots=True)
class NewCall:
    method: str
    path: str  # template, e.g. "/api/profiles/{id}"

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


@dataclass(frozen=True, slots=True)
class Step:
    """One call of a declared sequence (`sequence:` in an entry)."""

    call: NewCall
    does: str  # "queue campaign {campaign_id}": named when a later step fails
    path_params: Mapping[str, str] = field(default_factory=dict)
    query: Mapping[str, str] = field(default_factory=dict)
    body: Any = None  # a body template (see schema.BODY)


@dataclass(frozen=True, slots=True)
class Entry:
    source: str  # "mappings/metrics.yaml entry 1"
    methods: tuple[str, ...]
    path: str  # legacy template, e.g. "/api/v1/metric/{metric_id}/timeline"
    auth: str
    calls: tuple[NewCall, ...]
    envelope: str
    chart: tuple[str, ...] = ()
    beyond_chart: str | None = None
    revision: str = PINNED_REVISION
    handler: str | None = None
    shape: str | None = None
    query: Mapping[str, str] = field(default_factory=dict)
    path_params: Mapping[str, str] = field(default_factory=dict)
    filter: tuple[str, ...] = ()
    lookup: Mapping[str, str] = field(default_factory=dict)  # legacy param -> profile field
    body: Any = None  # the one call's body template (see schema.BODY)
    sequence: tuple[Step, ...] = ()  # calls made in order instead of the one call
    answer: int | None = None  # the sequence step (from 1) the answer is shaped from; None: the last
    match: Mapping[str, int] | None = None  # {at_most: n}: the people the request names, found
    params: Mapping[str, Param] = field(default_factory=dict)
    paginate: str = "none"
    note: str = ""
    coverage: str = "exact"
    example: Mapping[str, Any] = field(default_factory=dict)
    migration: Mapping[str, Any] = field(default_factory=dict)  # see schema.MIGRATION
    # Worked out once, as every request reads them: the route's name ("POST /api/track"),
    # its legacy error dialect (`family_of`), and the operations `calls:` names (variables
    # unnamed), which every upstream call of a request is checked against.
    legacy: str = field(init=False, repr=False, compare=False)
    family: str = field(init=False, repr=False, compare=False)
    _declared: frozenset[tuple[str, str]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "legacy", f"{'|'.join(self.methods)} {self.path}")
        object.__setattr__(self, "family", family_of(self.path))
        object.__setattr__(self, "_declared", frozenset(operation_key(call.method, call.path) for call in self.calls))

    def declares(self, method: str, path: str) -> bool:
        """Whether `calls:` names this new-API operation (path variables may be named differently)."""
        return operation_key(method, path) in self._declared


def family_of(path: str) -> str:
    if path.startswith("/api/v2/"):
        return "v2"
    if path in ("/api/track", "/api/identify"):
        return "public"
    if path.startswith("/ajax/"):
        return "ajax"
    return "v1"


def load_table(directory: Path) -> list[Entry]:
    files = sorted(directory.glob("*.yaml"))
    if not files:
        raise MappingError(f"{directory}: no mapping files (*.yaml)")
    entries = [entry for path in files for entry in _load_file(path, path.relative_to(directory.parent))]
    _reject_duplicates(entries)
    return entries


def _load_file(path: Path, shown: Path) -> list[Entry]:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise MappingError(f"{shown}: not valid YAML: {exc}") from None
    if not isinstance(document, list):
        raise MappingError(f"{shown}: must be a list of entries")
    return [_entry(raw, f"{shown} entry {i + 1}") for i, raw in enumerate(document)]


def _entry(raw: Any, source: str) -> Entry:
    if isinstance(raw, dict) and "legacy" in raw:
        source = f"{source} ({raw['legacy']})"
    error = next(iter(sorted(_VALIDATOR.iter_errors(raw), key=lambda e: e.path)), None)
    if error is not None:
        where = ".".join(str(part) for part in error.absolute_path) or "(entry)"
        raise MappingError(f"{source}: field {where}: {error.message}")
    if not raw["chart"] and "beyond_chart" not in raw:
        raise MappingError(f"{source}: field chart: empty; name a chart row or say why in beyond_chart")
    methods, path = raw["legacy"].split(" ", 1)
    respond = raw["respond"]
    if "handler" in raw and "shape" in respond:
        # Only the engine's own runners use `respond.shape`; a handler builds its answer itself.
        raise MappingError(f"{source}: field respond.shape: a handler entry builds its own answer; remove it")
    return Entry(
        source=source,
        methods=tuple(methods.split("|")),
        path=path,
        auth=raw["auth"],
        calls=tuple(NewCall(*call.split(" ", 1)) for call in raw["calls"]),
        envelope=respond["envelope"],
        shape=respond.get("shape"),
        chart=tuple(raw["chart"]),
        beyond_chart=raw.get("beyond_chart"),
        revision=raw.get("revision", PINNED_REVISION),
        handler=raw.get("handler"),
        query=MappingProxyType(dict(raw.get("query", {}))),
        path_params=MappingProxyType(dict(raw.get("path_params", {}))),
        filter=tuple(raw.get("filter", ())),
        lookup=MappingProxyType(dict(raw.get("lookup", {}))),
        body=raw.get("body"),
        sequence=tuple(_step(step) for step in raw.get("sequence", ())),
        answer=raw.get("answer"),
        match=MappingProxyType(dict(raw["match"])) if "match" in raw else None,
        params=MappingProxyType(
            {name: _param(name, spec, source) for name, spec in raw.get("params", {}).items()}
        ),
        paginate=raw.get("paginate", "none"),
        note=raw.get("note", ""),
        coverage=raw.get("coverage", "exact"),
        example=MappingProxyType(dict(raw.get("example", {}))),
        migration=MappingProxyType(dict(raw.get("migration", {}))),
    )


def _step(raw: dict) -> Step:
    return Step(
        call=NewCall(*raw["call"].split(" ", 1)),
        does=raw["does"],
        path_params=MappingProxyType(dict(raw.get("path_params", {}))),
        query=MappingProxyType(dict(raw.get("query", {}))),
        body=raw.get("body"),
    )


def _param(name: str, spec: dict, source: str) -> Param:
    if spec["type"] == "enum" and "values" not in spec:
        raise MappingError(f"{source}: field params.{name}.values: an enum needs values")
    return Param(
        name=name,
        type=spec["type"],
        default=spec.get("default"),
        min=spec.get("min"),
        max=spec.get("max"),
        values=tuple(spec.get("values", ())),
        required=spec.get("required", False),
    )


def _reject_duplicates(entries: list[Entry]) -> None:
    seen: dict[tuple[str, str], str] = {}
    for entry in entries:
        for method in entry.methods:
            key = (method, entry.path)
            if key in seen:
                raise MappingError(f"{entry.source}: field legacy: {method} {entry.path} is also mapped by {seen[key]}")
            seen[key] = entry.source
