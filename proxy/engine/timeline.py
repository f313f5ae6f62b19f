"""Legacy timelines (`since`/`count`/`sort` → `next`) over `GET /api/events`.

A legacy `next` token began with the Unix time of the next event, then a dash
(`1400656845-ABCDEFG`, legacy contract §1.3), and real clients read that leading time to
decide when to stop paging. The proxy's tokens keep that form: `<time>-<sort><skip>`,
where `<time>` is the next event's second and `<skip>` counts the events of that very
second already served. A page asks for one event more than it serves (the peek that
tells the next event's time); the following page filters on the time bound and drops
the `skip` events it has already shown.

That resume relies on the upstream ordering events of one second the same way on every
request (the sandbox orders them by id; Klaviyo's order among equal timestamps is not
documented, and is assumed stable). A run of same-second events longer than one upstream
page is walked by cursor, so nothing is skipped or repeated however long it is.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

from proxy.engine.context import Context
from proxy.engine.styles import Shape
from proxy.legacy.envelopes import timeline_envelope
from proxy.legacy.errors import LegacyError
from proxy.legacy.responses import LegacyResponse, json_response
from proxy.shapes.included import index_included
from proxy.upstream.client import Call

MAX_PAGE = 1000  # the most events GET /api/events serves per page
LATEST_SECOND = 253_402_300_799  # 9999-12-31T23:59:59Z: later times are junk, not dates
_UNIX_TIME = re.compile(r"\d{1,12}(?:\.\d+)?")
_PROXY_TOKEN = re.compile(r"(asc|desc)(\d{1,6})")
_UUID_EPOCH = 0x01B21DD213814000  # 100 ns intervals from 1582-10-15 to 1970-01-01
INVALID = "Invalid value for since: must be a Unix timestamp or a next token."


@dataclass(frozen=True, slots=True)
class Position:
    sort: str  # "asc" | "desc"
    since: int | None = None  # the time bound, inclusive
    skip: int = 0  # events at exactly `since` already served


def position_from(since: str | None, sort: str) -> Position:
    """Where a page starts: nothing (newest first, as legacy always did without `since`),
    Unix seconds, a legacy `<time>-<anything>` token (ours or one the legacy API handed
    out), or a time-based (version 1) UUID, the oldest legacy token form. Anything else,
    and times past year 9999 (`1e30`, `inf`), is the legacy 400."""
    if since is None:
        return Position("desc")
    text = since.strip()
    if _UNIX_TIME.fullmatch(text):
        return Position(sort, _seconds(text.partition(".")[0]))
    leading, dash, rest = text.partition("-")
    if dash and leading.isdigit() and len(leading) <= 12:
        ours = _PROXY_TOKEN.fullmatch(rest)
        if ours:
            return Position(ours.group(1), _seconds(leading), int(ours.group(2)))
        return Position(sort, _seconds(leading))
    return Position(sort, _uuid_seconds(text))


def _seconds(digits: str) -> int:
    value = int(digits)
    if value > LATEST_SECOND:
        raise LegacyError(400, INVALID)
    return value


def _uuid_seconds(text: str) -> int:
    try:
        token = uuid.UUID(text)
    except ValueError:
        raise LegacyError(400, INVALID) from None
    if token.version != 1:
        raise LegacyError(400, INVALID)  # only a version 1 UUID carries its moment
    return max(0, (token.time - _UUID_EPOCH) // 10_000_000)


def next_token(timestamp: int, sort: str, skip: int) -> str:
    return f"{timestamp}-{sort}{skip}"


def time_condition(position: Position) -> str | None:
    if position.since is None:
        return None
    operator = "greater-or-equal" if position.sort == "asc" else "less-or-equal"
    return f"{operator}(timestamp,{position.since})"


async def timeline(ctx: Context, shape: Shape) -> LegacyResponse:
    position = position_from(ctx.params.get("since"), ctx.params["sort"])
    count = ctx.params["count"]
    fetched = await _fetch(ctx, position, position.skip + count + 1)
    served, peek = fetched[position.skip : position.skip + count], fetched[position.skip + count :]
    events = [shape(resource, included) for resource, included in served]
    token = None
    if peek:
        resource, _ = peek[0]
        second = _timestamp(resource)
        already = sum(1 for served_resource, _ in served if _timestamp(served_resource) == second)
        if second == position.since:
            already += position.skip
        token = next_token(second, position.sort, already)
    return json_response(timeline_envelope(events, token))


async def _fetch(ctx: Context, position: Position, wanted: int) -> list[tuple[dict[str, Any], Any]]:
    """The first `wanted` events from the position's bound (fewer at the end), walking
    upstream pages only as far as needed."""
    target = ctx.entry.calls[0]
    bound = time_condition(position)
    order = "timestamp" if position.sort == "asc" else "-timestamp"
    base = (*ctx.entry_query(*([bound] if bound else [])), ("sort", order), ("page[size]", str(min(wanted, MAX_PAGE))))
    call: Call = ctx.call(target.method, target.path, query=base)
    fetched: list[tuple[dict[str, Any], Any]] = []
    while True:
        reply = await ctx.send(call)
        document = reply.document or {}
        included = index_included(document)
        fetched.extend((resource, included) for resource in document.get("data") or ())
        cursor = reply.next_cursor
        if len(fetched) >= wanted or not cursor:
            return fetched[:wanted]
        call = ctx.call(target.method, target.path, query=(*base, ("page[cursor]", cursor)))


def _timestamp(resource: dict[str, Any]) -> int:
    value = (resource.get("attributes") or {}).get("timestamp")
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0
