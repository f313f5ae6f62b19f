"""Membership without consent: adding and removing list members. (The membership checks,
in every wire form, need no handler: they are mapping YAML, `match:`.)"""

from __future__ import annotations

from collections.abc import Iterable

from proxy.engine.context import Context
from proxy.engine.fanout import gather_bounded, in_batches
from proxy.engine.matching import requested_identifiers
from proxy.handlers.resolve import find_members, requested_profiles, resolve_profiles
from proxy.legacy.responses import LegacyResponse, empty_response, json_response
from proxy.shapes.lists import members_body
from proxy.shapes.members import member_record, unique

LIST = "/api/lists/{id}"
RELATIONSHIPS = "/api/lists/{id}/relationships/profiles"
MEMBERSHIP = (("fields[profile]", "email,phone_number,joined_group_at"),)
IDS_PER_WRITE = 1000  # the relationship writes' cap


async def add_members(ctx: Context) -> LegacyResponse:
    """Find or create each profile, then add them all by id; repeating it changes nothing."""
    list_id = ctx.path_params["list_id"]
    profiles = requested_profiles(ctx)
    # An unknown list is a 404 before any profile is created.
    await ctx.send(ctx.call("GET", LIST, path_params={"id": list_id}, query=(("fields[list]", "name"),)))
    resources = await resolve_profiles(ctx, profiles)
    await write_membership(ctx, "POST", list_id, (resource["id"] for resource in resources))
    return json_response(unique(member_record(resource) for resource in resources))


async def remove_members(ctx: Context) -> LegacyResponse:
    list_id = ctx.path_params["list_id"]
    matches = await find_members(ctx, "list", list_id, requested_identifiers(ctx), MEMBERSHIP)
    await write_membership(ctx, "DELETE", list_id, (resource["id"] for _, resource in matches))
    return empty_response()


async def write_membership(ctx: Context, method: str, list_id: str, profile_ids: Iterable[str]) -> None:
    """Add (POST) or remove (DELETE) members by id, at most 1000 per call."""
    distinct = list(dict.fromkeys(profile_ids))
    await gather_bounded(
        ctx.send(ctx.call(method, RELATIONSHIPS, path_params={"id": list_id}, body=members_body(batch)))
        for batch in in_batches(distinct, IDS_PER_WRITE)
    )

