"""The marker-paged bulk readers: every member of a list or segment
(`/api/v2/group/{id}/members/all`) and a list's exclusions (`/exclusions/all`).

A legacy batch is at most BATCH_PAGES upstream pages of 100, read one after another (a
page's extra read beside the next page's), so the proxy holds two pages at most and one
batch of small records however large the group is. members/all decodes its pages into
the few fields its records read (`proxy.newapi.views`), not whole profiles.
Where a batch stopped is kept behind the opaque integer `marker` (`proxy.engine.markers`, in the
state store, so any worker, replica or later process continues the walk); the last
batch has none. A legacy group id may name a list or a segment (hazard 7): the
first call probes, and the answer is remembered.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from proxy.engine import markers
from proxy.engine.context import Context
from proxy.engine.markers import Resume
from proxy.engine.state import GROUP_KINDS
from proxy.handlers.lists import SEGMENT_FIELDS
from proxy.handlers.resolve import GROUP_MEMBERS
from proxy.legacy.errors import NOT_FOUND, LegacyError
from proxy.legacy.responses import LegacyResponse, json_response
from proxy.newapi.errors import UpstreamRejected
from proxy.newapi.messages import Query
from proxy.newapi.views import MembersPage, ProfilesWithPushTokens
from proxy.shapes.filter_expr import any_of, equals
from proxy.shapes.members import (
    list_exclusion,
    marker_batch,
    member_exclusion,
    member_record,
    push_tokens,
)
from proxy.upstream.client import Call

BATCH_PAGES = 10  # legacy batches were about 1000 records
PAGE = (("page[size]", "100"),)
BY_JOINING = (("sort", "joined_group_at"),)  # newcomers join at the end, behind any cursor
WITH_CONSENT = (("additional-fields[profile]", "subscriptions"),)
PROBES = (
    ("list", "/api/lists/{id}", ("fields[list]", "name")),
    ("segment", "/api/segments/{id}", ("fields[segment]", SEGMENT_FIELDS)),
)
# Group id -> "list" or "segment", remembered in the request's state store (ids are never
# reused, so the answer only expires to bound the store).
KIND_TTL = 7 * 24 * 3600.0


@dataclass(frozen=True, slots=True)
class Source:
    """One upstream listing a bulk reader walks, and the legacy record (if any) per resource;
    `complete`, when given, adds to one page's records what the listing cannot carry."""

    path: str
    path_params: Mapping[str, str]
    query: Query
    record: Callable[[dict[str, Any]], dict[str, Any] | None]
    complete: Callable[[Context, list[dict[str, Any]]], Awaitable[None]] | None = None
    view: Any = None  # the parts of a page `record` reads (`proxy.newapi.views`); None: all of it

    def call(self, ctx: Context, cursor: str | None) -> Call:
        query = (*self.query, ("page[cursor]", cursor)) if cursor else self.query
        return ctx.call("GET", self.path, path_params=self.path_params, query=query, view=self.view)


async def all_members(ctx: Context) -> LegacyResponse:
    group_id = ctx.path_params["group_id"]
    resume = await _resume(ctx, group_id)
    kind = resume.kind if resume else await group_kind(ctx, group_id)
    fields = ("fields[profile]", "email,phone_number,joined_group_at")
    members = Source(
        GROUP_MEMBERS[kind], {"id": group_id}, (*PAGE, fields, *BY_JOINING), member_record, _add_push_tokens, MembersPage
    )
    return await _batch(ctx, group_id, kind, [members], resume)


async def _add_push_tokens(ctx: Context, records: list[dict[str, Any]]) -> None:
    """Group members cannot include their push tokens; the profiles listing can, so one
    more read per page of 100 finds them (the same rate tier as the members page)."""
    if not records:
        return
    query = (
        ("filter", any_of("id", [record["id"] for record in records])),
        ("page[size]", "100"),
        ("include", "push-tokens"),
        ("fields[profile]", "id"),
    )
    reply = await ctx.send(ctx.call("GET", "/api/profiles", query=query, view=ProfilesWithPushTokens))
    tokens = push_tokens(reply.document or {})
    for record in records:
        if record["id"] in tokens:
            record["push_token"] = tokens[record["id"]]


async def list_exclusions(ctx: Context) -> LegacyResponse:
    """Who left this list (its list suppressions), then its members who cannot be mailed
    at all (global suppressions, SMS unsubscribes). Leaving a list takes one off it, so
    the two never overlap but for a re-added leaver, which the second skips."""
    list_id = ctx.path_params["list_id"]
    left = equals("subscriptions.email.marketing.list_suppressions.list_id", list_id)
    leavers_view = (("fields[profile]", "email,phone_number,subscriptions"), *WITH_CONSENT)
    members_view = (("fields[profile]", "email,phone_number,joined_group_at,subscriptions"), *WITH_CONSENT)
    sources = [
        Source("/api/profiles", {}, (*PAGE, ("filter", left), *leavers_view), lambda r: list_exclusion(r, list_id)),
        Source(
            GROUP_MEMBERS["list"],
            {"id": list_id},
            (*PAGE, *members_view, *BY_JOINING),
            lambda resource: member_exclusion(resource, list_id),
        ),
    ]
    return await _batch(ctx, list_id, "list", sources, await _resume(ctx, list_id))


async def group_kind(ctx: Context, group_id: str) -> str:
    key = f"{GROUP_KINDS}{ctx.account}:{group_id}"
    known = await ctx.state.get(key)
    if known is not None:
        return known.decode()
    kind = await _probe(ctx, group_id)
    await ctx.state.put(key, kind.encode(), KIND_TTL)
    return kind


async def _probe(ctx: Context, group_id: str) -> str:
    for kind, path, fields in PROBES:
        try:
            await ctx.send(ctx.call("GET", path, path_params={"id": group_id}, query=(fields,)))
        except UpstreamRejected as failure:
            if failure.status != 404:
                raise
            continue
        return kind
    raise LegacyError(404, NOT_FOUND)


async def _resume(ctx: Context, group_id: str) -> Resume | None:
    marker = ctx.params["marker"]
    if marker is None:
        return None
    resume = await markers.load(ctx.state, marker)
    if resume is None or (resume.route, resume.group_id, resume.account) != (ctx.entry.path, group_id, ctx.account):
        raise LegacyError(400, "Invalid value for marker: it is unknown or has expired; start again without one.")
    return resume


async def _batch(
    ctx: Context, group_id: str, kind: str, sources: list[Source], resume: Resume | None
) -> LegacyResponse:
    """Up to BATCH_PAGES pages, source after source, from where the marker left off.

    Pages are read one after another (each cursor comes from the page before), but a
    page's `complete` read runs beside the next page's read: a batch whose pages need a
    second read each costs about one round trip per page, not two. One completion at most
    is in flight, so the proxy holds two pages at a time, whatever the group's size."""
    step, cursor = (resume.step, resume.cursor) if resume else (0, None)
    records: list[dict[str, Any]] = []
    completing: asyncio.Task[None] | None = None
    try:
        for _ in range(BATCH_PAGES):
            source = sources[step]
            reply = await ctx.send(source.call(ctx, cursor))
            page = [record for resource in reply.document.get("data") or () if (record := source.record(resource))]
            cursor = reply.next_cursor
            del reply  # hold the records, not the parsed page, while the next one is read
            if completing is not None:
                await completing
            completing = asyncio.create_task(source.complete(ctx, page)) if source.complete else None
            records += page
            if cursor is None:
                step += 1
                if step == len(sources):
                    break
        if completing is not None:
            await completing
    except BaseException:
        if completing is not None:  # the batch failed: nobody will read what it was completing
            completing.cancel()
            await asyncio.gather(completing, return_exceptions=True)
        raise
    if step == len(sources):
        return json_response(marker_batch(records, None))
    marker = await markers.save(ctx.state, Resume(ctx.entry.path, group_id, kind, step, cursor, ctx.account))
    return json_response(marker_batch(records, marker))
