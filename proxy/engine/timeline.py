"""Legacy timelines (`since`/`count`/`sort` → `next`) over `GET /api/events` cursors.

The `next` token carries the upstream cursor with the sort and time bound it belongs
to, so the following page continues exactly where this one stopped — no event is
skipped or repeated when several share a timestamp.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from proxy.engine.context import Context
from proxy.engine.styles import Shape
from proxy.legacy import paging_token
from proxy.legacy.envelopes import timeline_envelope
from proxy.legacy.errors import LegacyError
from proxy.legacy.responses import LegacyResponse, json_response
from proxy.newapi.messages import Query
from proxy.shapes.included import index_included

_TOKEN_VERSION = 1
# A `since` is a moment events can have: from the epoch to the last second of year 9999
# (the last a datetime can name). Anything else (1e309, -inf, NaN, 1e30) is refused here,
# before it can reach an upstream filter.
_LATEST = 253_402_300_799
_INVALID_SINCE = "Invalid value for since: must be a Unix timestamp or a next token."


@dataclass(frozen=True, slots=True)
class Position:
    sort: str  # "asc" | "desc"
    since: int | None = None
    cursor: str | None = None


def position_from(since: str | None, sort: str) -> Position:
    if since is None:
        return Position("desc")  # the legacy API always went newest-first without `since`
    text = since.strip()
    try:
        seconds = Decimal(text)
    except InvalidOperation:
        return decode_token(text)
    if not seconds.is_finite() or not 0 <= seconds <= _LATEST:
        raise LegacyError(400, _INVALID_SINCE)
    return Position(sort, int(seconds))


def encode_token(position: Position) -> str:
    return paging_token.encode(_TOKEN_VERSION, position.sort, position.since, position.cursor)


def decode_token(token: str) -> Position:
    try:
        sort, since, cursor = paging_token.decode(token, _TOKEN_VERSION, 3)
        if sort not in ("asc", "desc") or not isinstance(cursor, str):
            raise ValueError
        return Position(sort, since if isinstance(since, int) else None, cursor)
    except ValueError:
        raise LegacyError(400, _INVALID_SINCE) from None


def paging_query(position: Position, count: int) -> Query:
    pairs = [("sort", "timestamp" if position.sort == "asc" else "-timestamp"), ("page[size]", str(count))]
    if position.cursor:
        pairs.append(("page[cursor]", position.cursor))
    return tuple(pairs)


def time_condition(position: Position) -> str | None:
    if position.since is None:
        return None
    operator = "greater-or-equal" if position.sort == "asc" else "less-or-equal"
    return f"{operator}(timestamp,{position.since})"


async def timeline(ctx: Context, shape: Shape) -> LegacyResponse:
    position = position_from(ctx.params.get("since"), ctx.params["sort"])
    target = ctx.entry.calls[0]
    bound = time_condition(position)
    query = (*ctx.entry_query(*([bound] if bound else [])), *paging_query(position, ctx.params["count"]))
    reply = await ctx.send(ctx.call(target.method, target.path, query=query))
    document = reply.document or {}
    included = index_included(document)
    events = [shape(resource, included) for resource in document.get("data") or ()]
    cursor = reply.next_cursor
    next_token = encode_token(Position(position.sort, position.since, cursor)) if cursor else None
    return json_response(timeline_envelope(events, next_token))
