"""Who a legacy list call names, in new-API terms (hazard 1: the new API finds people
only by filter and writes list membership by profile id).

- `find_members`: which of the given emails, phone numbers and push tokens belong to a
  list or segment (`proxy.engine.matching`, in the group's members listing);
- `resolve_profiles`: the profile each legacy `profiles` object names, found in
  batches of 100 or upserted; both are safe to repeat, so a retried legacy call creates
  no duplicate profile.
Independent calls run concurrently, a few at a time.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import structlog

from proxy.engine.context import Context
from proxy.engine.fanout import collect, gather_bounded, in_batches
from proxy.engine.matching import LOOKUP_SIZE, filtered, find_named
from proxy.newapi.messages import Query
from proxy.shapes.member_input import (
    Identifiers,
    PROFILE_KEYS,
    LegacyProfile,
    merge_same_people,
    profiles_from,
    require_identifiers,
    without_own_id,
)
from proxy.newapi.emails import normal_email

log = structlog.get_logger("proxy.lists")

GROUP_MEMBERS = {"list": "/api/lists/{id}/profiles", "segment": "/api/segments/{id}/profiles"}
FOUND_FIELDS = "email,phone_number,external_id"

Key = tuple[str, str]  # (identifier field, value), emails normalised


def requested_profiles(ctx: Context) -> list[LegacyProfile]:
    profiles = require_identifiers(profiles_from(ctx.request.params))
    for index, profile in enumerate(profiles):
        for moved in profile.degraded:  # the field's name only: its value may be PII
            log.warning("unusable_field_kept_as_property", field=f"profiles[{index}].{moved.field}", property=moved.moved_to)
    return profiles


async def find_members(
    ctx: Context, kind: str, group_id: str, identifiers: Identifiers, view: Query
) -> list[tuple[str, dict[str, Any]]]:
    """(field that matched, member profile) for every given identifier in the group."""
    return await find_named(ctx, GROUP_MEMBERS[kind], {"id": group_id}, identifiers, view)


async def resolve_profiles(ctx: Context, profiles: Sequence[LegacyProfile]) -> list[dict[str, Any]]:
    """The profile resource of each legacy profile, in order. Entries about one person are
    merged into one write first. Profiles that only name themselves (or carry a bare `id`,
    which is dropped when it is the found profile's own id) are looked up; the others, and
    those not found, are upserted (`POST /api/profile-import`), which also writes their
    properties."""
    people, person_of = merge_same_people(profiles)
    found = await _find_profiles(ctx, {p.key for p in people if p.only_identifies or p.klaviyo_id})
    people = [without_own_id(person, found.get(person.key, {}).get("id")) for person in people]
    writes = [index for index, person in enumerate(people) if not person.only_identifies or person.key not in found]
    written = await gather_bounded(_upsert(ctx, people[index]) for index in writes)
    resolved = {index: found.get(person.key) for index, person in enumerate(people)} | dict(zip(writes, written))
    return [resolved[person] for person in person_of]


async def _find_profiles(ctx: Context, keys: set[Key]) -> dict[Key, dict[str, Any]]:
    by_field: dict[str, list[str]] = {}
    for field, value in sorted(keys):
        by_field.setdefault(field, []).append(value)
    view = (("fields[profile]", FOUND_FIELDS),)
    calls = [
        filtered(ctx, "/api/profiles", {}, field, batch, view)
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
    present = [(name, value) for name in PROFILE_KEYS if (value := attributes.get(name))]
    return [(name, normal_email(value) if name == "email" else value) for name, value in present]


async def _upsert(ctx: Context, profile: LegacyProfile) -> dict[str, Any]:
    body = {"data": {"type": "profile", "attributes": dict(profile.attributes)}}
    reply = await ctx.send(ctx.call("POST", "/api/profile-import", body=body))
    return reply.document["data"]

