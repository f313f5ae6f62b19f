"""The migration plan: per legacy route, what replaces it in the current API and the code
that calls it, built from the mapping table (each entry's `migration:` block) and the
pinned spec (operation ids, scopes, rate limits).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from proxy.mapping.table import Entry
from proxy.openapi.spec import RateLimit, Spec
from proxy.revision import PINNED_REVISION
from proxy.staging.deprecation import reference_url
from proxy.staging.migration_snippets import node_snippet, python_snippet, resolve_steps

# Klaviyo's published rate-limit tiers, named by their burst (requests a second).
_TIERS = {1: "XS", 3: "S", 10: "M", 75: "L", 350: "XL"}
_AUTH_PARAMS = {
    "api_key": "`api_key` (query, form, JSON body or `api-key` header) → the `Authorization: "
    "Klaviyo-API-Key …` header; the SDK sends it, with the `revision` header, from KLAVIYO_API_KEY",
}


@dataclass(frozen=True)
class PlannedOperation:
    call: str  # "GET /api/profiles/{id}"
    operation_id: str | None
    scopes: tuple[str, ...]
    ratelimit: RateLimit | None
    revision: str

    @property
    def tier(self) -> str:
        if self.ratelimit is None:
            return "—"
        limit = self.ratelimit
        name = _TIERS.get(limit.burst, "custom")
        daily = f", {limit.daily}/d" if limit.daily else ""
        return f"{name} ({limit.burst}/s, {limit.steady}/m{daily})"

    @property
    def reference(self) -> str:
        return reference_url(self.operation_id)


@dataclass(frozen=True)
class RoutePlan:
    route: str  # "GET /api/v1/metrics", as usage is recorded
    coverage: str
    operations: tuple[PlannedOperation, ...]
    params: Mapping[str, str]
    fields: Mapping[str, str]
    differences: tuple[str, ...]
    note: str
    placeholders: Mapping[str, str]
    sdk_calls: tuple[str, ...]  # "Profiles.get_profile"
    python: str
    node: str
    sandbox: str | None  # why the suite cannot run the snippet; None: it does
    usage: Mapping[str, Any] = field(default_factory=dict)  # calls, statuses when --used

    @property
    def anchor(self) -> str:
        return anchor(self.route)


def anchor(route: str) -> str:
    """`GET|POST /api/v1/campaign/{campaign_id}/recipients` -> `get-post-api-v1-campaign-campaign-id-recipients`."""
    return "route-" + re.sub(r"[^a-z0-9]+", "-", route.lower()).strip("-")


class MigrationError(Exception):
    """An entry lacks its `migration:` block or names an operation the spec does not have."""


def build_plan(
    entries: Iterable[Entry],
    spec: Spec,
    beta_spec: Spec | None = None,
    usage: list[dict[str, Any]] | None = None,
) -> list[RoutePlan]:
    """Every entry; with `usage` (the inventory's snapshot) only the routes it names, most called first."""
    plans = [_route_plan(entry, spec, beta_spec) for entry in entries]
    return plans if usage is None else select_used(plans, usage)


def select_used(plans: list[RoutePlan], usage: list[dict[str, Any]]) -> list[RoutePlan]:
    """The plans of the routes the inventory names, with their call totals, most called first."""
    totals: dict[str, dict[str, Any]] = {}
    for item in usage:
        total = totals.setdefault(item["route"], {"calls": 0, "statuses": {}, "keys": 0})
        total["calls"] += item["calls"]
        total["keys"] += 1
        for status, count in item["statuses"].items():
            total["statuses"][status] = total["statuses"].get(status, 0) + count
    used = [replace(plan, usage=totals[plan.route]) for plan in plans if plan.route in totals]
    return sorted(used, key=lambda plan: (-plan.usage["calls"], plan.route))


def _route_plan(entry: Entry, spec: Spec, beta_spec: Spec | None) -> RoutePlan:
    migration = entry.migration
    if not migration:
        raise MigrationError(f"{entry.source}: no migration: block")
    try:
        calls = resolve_steps(list(migration["steps"]), spec)
    except KeyError as error:
        raise MigrationError(f"{entry.source}: migration.steps: {error.args[0]}") from None
    targets = " + ".join(dict.fromkeys(call.operation.operation_id for call in calls))
    title = f"{entry.legacy} → {targets}"
    placeholders = dict(migration.get("placeholders", {}))
    params = {name: text for name, text in _AUTH_PARAMS.items() if entry.auth == name} | dict(migration["params"])
    return RoutePlan(
        route=entry.legacy,
        coverage=entry.coverage,
        operations=tuple(_operation(call, entry, spec, beta_spec) for call in entry.calls),
        params=params,
        fields=dict(migration["fields"]),
        differences=tuple(migration["differences"]),
        note=entry.note,
        placeholders=placeholders,
        sdk_calls=tuple(f"{call.python_group}.{call.operation.operation_id}" for call in calls),
        python=python_snippet(title, placeholders, calls),
        node=node_snippet(title, placeholders, calls, spec),
        sandbox=migration.get("sandbox"),
    )


def _operation(call: Any, entry: Entry, spec: Spec, beta_spec: Spec | None) -> PlannedOperation:
    # A beta entry may still declare GA reads (the template send reads the template first).
    sources = (beta_spec, spec) if entry.revision != PINNED_REVISION and beta_spec is not None else (spec,)
    source, operation = next(
        ((source, found) for source in sources if (found := source.operation(call.method, call.path))), (spec, None)
    )
    if operation is None:
        return PlannedOperation(str(call), None, (), None, entry.revision)
    raw = source.document["paths"][operation.path][operation.method.lower()]
    return PlannedOperation(
        str(call), operation.operation_id, tuple(raw.get("x-klaviyo-scopes", ())), operation.ratelimit, entry.revision
    )
