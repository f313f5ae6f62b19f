"""Membership without consent: adding and removing list members, and the membership
checks in every wire form (v2 GET with a body, POST get-members, segment GET and POST,
v1 `GET /api/v1/segment/{id}/members?email=a,b`)."""

from __future__ import annotations

from collections.abc import Iterable

from proxy.engine.context import Context
from proxy.engine.fanout import gather_bounded, in_batches
from proxy.handlers.resolve import (
    find_members,
    requested_identifiers,
    requested_profiles,
    resolve_profiles,
)
from proxy.legacy.responses import LegacyResponse, empty_response, json_response
from proxy.shapes.lists import members_body
from proxy.shapes.member_input import CHECK_LIMIT
from proxy.shapes.members import check_record, member_record, unique

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


async def check_list_members(ctx: Context) -> LegacyResponse:
    return await _check(ctx, "list", ctx.path_params["list_id"])


async def check_segment_members(ctx: Context) -> LegacyResponse:
    return await _check(ctx, "segment", ctx.path_params["segment_id"])


async def _check(ctx: Context, kind: str, group_id: str) -> LegacyResponse:
    """The given people who are members; no distinction between a non-member and an unknown."""
    identifiers = requested_identifiers(ctx, CHECK_LIMIT)
    matches = await find_members(ctx, kind, group_id, identifiers, MEMBERSHIP)
    return json_response(unique(check_record(resource) for _, resource in matches))
