"""Klaviyo's per-operation rate tiers, derived from the spec's `x-klaviyo-ratelimit` into
`mappings/ratelimits/<revision>.yaml` (by `klaviyo-legacy-proxy check --write-ratelimits`),
so the proxy knows every operation's quota at start-up without reading the spec.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from proxy.newapi.messages import UpstreamRequest
from proxy.openapi.spec import ConditionalRateLimit, RateLimit, Spec, parse_ratelimit
from proxy.revision import PINNED_REVISION

Operation = str  # "METHOD /template", e.g. "GET /api/profiles/{id}"
_MATCH_CACHE_SIZE = 4096  # distinct (method, path) pairs remembered; paths carry ids
_UNSEEN = object()  # a pair not matched yet (None: matched, no operation)


class TiersError(Exception):
    """The tier table is missing or malformed; the message names the file."""


def tiers_path(mappings_dir: Path) -> Path:
    return mappings_dir / "ratelimits" / f"{PINNED_REVISION}.yaml"


@dataclass(frozen=True)
class TierTable:
    revision: str
    limits: Mapping[Operation, RateLimit]
    # Lower tiers some query parameters select (`additional-fields[list]=profile_count`).
    conditional: Mapping[Operation, tuple[ConditionalRateLimit, ...]] = field(default_factory=dict)

    def tier_of(self, request: UpstreamRequest) -> tuple[str, RateLimit] | None:
        """The budget a request spends: its operation's, or, when its query selects a
        lower tier, that tier's own (named "<operation> <parameter>=<value>")."""
        matched = self.match(request.method, request.path)
        if matched is None:
            return None
        conditional = self.conditional.get(matched[0])
        if conditional:
            for tier in conditional:
                if tier.applies(request.query):
                    return f"{matched[0]} {tier.parameter}={tier.value}", tier.ratelimit
        return matched

    def match(self, method: str, path: str) -> tuple[Operation, RateLimit] | None:
        """The operation a concrete (percent-encoded) path belongs to, and its quota.

        Literal segments beat variables position by position, as Klaviyo's router does,
        so `/api/profiles/{id}` never shadows a literal sibling. Every upstream call asks
        (for the governor, retries and metric labels), so answers are remembered.
        """
        key = (method, path)
        matched = self._matched.get(key, _UNSEEN)
        if matched is _UNSEEN:
            if len(self._matched) >= _MATCH_CACHE_SIZE:
                self._matched.clear()
            matched = self._matched[key] = self._match(method, path)
        return matched

    def _match(self, method: str, path: str) -> tuple[Operation, RateLimit] | None:
        segments = path.split("/")
        candidates = self._by_shape.get((method.upper(), len(segments)), ())
        matching = [parts for parts in candidates if _matches(parts, segments)]
        if not matching:
            return None
        operation = f"{method.upper()} {'/'.join(min(matching, key=_variable_positions))}"
        return operation, self.limits[operation]

    def operation_of(self, request: UpstreamRequest) -> Operation:
        """The operation's name for logs and metric labels; never a concrete path (ids)."""
        matched = self.match(request.method, request.path)
        return matched[0] if matched else f"{request.method} (not in {self.revision})"

    @functools.cached_property
    def _matched(self) -> dict[tuple[str, str], tuple[Operation, RateLimit] | None]:
        return {}

    @functools.cached_property
    def _by_shape(self) -> dict[tuple[str, int], list[list[str]]]:
        shapes: dict[tuple[str, int], list[list[str]]] = {}
        for operation in self.limits:
            method, template = operation.split(" ", 1)
            parts = template.split("/")
            shapes.setdefault((method, len(parts)), []).append(parts)
        return shapes


def render_tiers(spec: Spec) -> str:
    """The YAML text of the table for a spec: one line per operation, in path order."""
    lines = [
        f"# Generated from the official spec (revision {spec.revision}) by",
        "# `klaviyo-legacy-proxy check --write-ratelimits`; do not edit by hand.",
        "# Operation -> x-klaviyo-ratelimit: burst per second, steady per minute, daily cap.",
        f'revision: "{spec.revision}"',
        "operations:",
    ]
    ordered = sorted(spec.operations, key=lambda op: (op.path, op.method))
    for operation in ordered:
        if operation.ratelimit is not None:
            lines.append(f"  {operation.method} {operation.path}: {_render_limit(operation.ratelimit)}")
    lines.append("# Lower tiers a query parameter selects (stated in the operations' descriptions).")
    lines.append("conditional:")
    for operation in ordered:
        if operation.conditional_ratelimits:
            lines.append(f"  {operation.method} {operation.path}:")
            for tier in operation.conditional_ratelimits:
                lines.append(f'    "{tier.parameter}={tier.value}": {_render_limit(tier.ratelimit)}')
    return "\n".join(lines) + "\n"


def _render_limit(limit: RateLimit) -> str:
    parts = [f"burst: {limit.burst}/s", f"steady: {limit.steady}/m"]
    if limit.daily is not None:
        parts.append(f"daily: {limit.daily}/d")
    return "{" + ", ".join(parts) + "}"


@functools.cache
def load_tiers(path: Path) -> TierTable:
    try:
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        operations = document["operations"]
        return TierTable(
            revision=str(document["revision"]),
            limits={str(operation): parse_ratelimit(raw) for operation, raw in operations.items()},
            conditional={
                str(operation): tuple(_conditional(str(selector), raw) for selector, raw in tiers.items())
                for operation, tiers in (document.get("conditional") or {}).items()
            },
        )
    except OSError as exc:
        raise TiersError(f"rate tiers {path}: cannot read ({exc.strerror}); run `klaviyo-legacy-proxy check --write-ratelimits`") from None
    except (yaml.YAMLError, KeyError, TypeError, AttributeError, ValueError) as exc:
        raise TiersError(f"rate tiers {path}: malformed: {exc}".splitlines()[0]) from None


def _conditional(selector: str, raw: Mapping[str, str]) -> ConditionalRateLimit:
    parameter, value = selector.split("=", 1)
    return ConditionalRateLimit(parameter, value, parse_ratelimit(raw))


def _matches(template: list[str], segments: list[str]) -> bool:
    return all(
        segment != "" if _is_variable(part) else part == segment for part, segment in zip(template, segments)
    )


def _is_variable(part: str) -> bool:
    return part.startswith("{") and part.endswith("}")


def _variable_positions(parts: list[str]) -> list[bool]:
    return [_is_variable(part) for part in parts]


def write_tiers(mappings_dir: Path, spec: Spec) -> Path:
    path = tiers_path(mappings_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_tiers(spec), encoding="utf-8")
    return path


def stale_tiers(mappings_dir: Path, spec: Spec) -> list[str]:
    """Problems for `check`: the table must be exactly what the spec derives."""
    path = tiers_path(mappings_dir)
    try:
        current = path.read_text(encoding="utf-8")
    except OSError:
        current = None
    if current == render_tiers(spec):
        return []
    state = "missing" if current is None else f"stale versus the spec of revision {spec.revision}"
    return [f"ratelimits: {path} is {state}; run `klaviyo-legacy-proxy check --write-ratelimits`"]
