"""Who a legacy list call names, in new-API terms (hazard 1: the new API finds people
only by filter and writes list membership by profile id).

- `find_members`: which of the given emails, phone numbers and push tokens belong to a
  list or segment — one filtered members call per 100 values;
- `resolve_profiles`: the profile each legacy `profiles` object names, found in
  batches of 100 or upserted; both are safe to repeat, so a retried legacy call creates
  no duplicate profile.
Independent calls run concurrently, a few at a time.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from proxy.engine.context import Context
from proxy.engine.fanout import collect, gather_bounded, in_batches
from proxy.legacy.errors import LegacyError
from proxy.newapi.messages import Query
from proxy.shapes.filter_expr import any_of
from proxy.shapes.member_input import (
    Identifiers,
    LegacyProfile,
    check_count,
    identifiers_from,
    profiles_from,
    require_identifiers,
)
from proxy.shapes.profile_input import IDENTIFIERS
from proxy.upstream.client import Call

LOOKUP_SIZE = 100  # values per any(…) filter: the new API's largest page
GROUP_MEMBERS = {"list": "/api/lists/{id}/profiles", "segment": "/api/segments/{id}/profiles"}
FOUND_FIELDS = "email,phone_number,external_id"

Key = tuple[str, str]  # (identifier field, value), emails lower-cased


def requested_identifiers(ctx: Context, limit: int | None = None) -> Identifiers:
    """The identifiers the call names; a legacy 400 when there are none (or too many)."""
    identifiers = identifiers_from(ctx.request.params)
    if limit is not None:
        check_count(identifiers, limit)
    if not identifiers.given():
        raise LegacyError(400, "At least one of emails, phone_numbers or push_tokens is required.")
    return identifiers


def requested_profiles(ctx: Context) -> list[LegacyProfile]:
    return require_identifiers(profiles_from(ctx.request.params))


async def find_members(
    ctx: Context, kind: str, group_id: str, identifiers: Identifiers, view: Query
) -> list[tuple[str, dict[str, Any]]]:
    """(field that matched, member profile) for every given identifier in the group."""
    lookups = [
        (field, _lookup(ctx, GROUP_MEMBERS[kind], {"id": group_id}, field, batch, view))
        for field, values in identifiers.given().items()
        for batch in in_batches(values, LOOKUP_SIZE)
    ]
    found = await gather_bounded(collect(ctx, call) for _, call in lookups)
    return [(field, resource) for (field, _), resources in zip(lookups, found) for resource in resources]


async def resolve_profiles(ctx: Context, profiles: Sequence[LegacyProfile]) -> list[dict[str, Any]]:
    """The profile resource of each legacy profile, in order. Profiles that only name
    themselves are looked up; the others, and those not found, are upserted
    (`POST /api/profile-import`), which also writes their properties."""
    found = await _find_profiles(ctx, {profile.key for profile in profiles if profile.only_identifies})
    writes = {profile.key: profile for profile in profiles if not profile.only_identifies or profile.key not in found}
    written = await gather_bounded(_upsert(ctx, profile) for profile in writes.values())
    resolved = {**found, **dict(zip(writes, written))}
    return [resolved[profile.key] for profile in profiles]


async def _find_profiles(ctx: Context, keys: set[Key]) -> dict[Key, dict[str, Any]]:
    by_field: dict[str, list[str]] = {}
    for field, value in sorted(keys):
        by_field.setdefault(field, []).append(value)
    view = (("fields[profile]", FOUND_FIELDS),)
    calls = [
        _lookup(ctx, "/api/profiles", {}, field, batch, view)
        for field, values in by_field.items()
        for batch in in_batches(values, LOOKUP_SIZE)
    ]
    found: dict[Key, dict[str, Any]] = {}
    for resources in await gather_bounded(collect(ctx, call) for call in calls):
        for resource in resources:
            for key in _keys(resource):
                if key in keys:
                    found.setdefault(key, resource)
    return found


def _keys(resource: dict[str, Any]) -> list[Key]:
    attributes = resource.get("attributes") or {}
    present = [(name, value) for name in IDENTIFIERS if (value := attributes.get(name))]
    return [(name, value.lower() if name == "email" else value) for name, value in present]


async def _upsert(ctx: Context, profile: LegacyProfile) -> dict[str, Any]:
    body = {"data": {"type": "profile", "attributes": dict(profile.attributes)}}
    reply = await ctx.send(ctx.call("POST", "/api/profile-import", body=body))
    return reply.document["data"]


def _lookup(
    ctx: Context, path: str, path_params: dict[str, str], field: str, values: Sequence[str], view: Query
) -> Call:
    query = (("filter", any_of(field, values)), ("page[size]", str(LOOKUP_SIZE)), *view)
    return ctx.call("GET", path, path_params=path_params, query=query)
