"""Runners for what mapping YAML can say on its own: one call (a by-id read, or a write
whose body the entry writes out, answered with its result or an empty body), a whole
collection as a bare array, or a v1 `$list` page.

A runner takes a `Context` and returns a `LegacyResponse`; named handlers have the same
signature, so the engine does not care which it got.
"""

from __future__ import annotations

from typing import Any, AsyncIterator, Callable

from proxy.engine.bodies import build
from proxy.engine.context import Context
from proxy.engine.snapshots import EVERY, page_window
from proxy.legacy.envelopes import page_envelope
from proxy.legacy.responses import LegacyResponse, empty_response, json_response
from proxy.shapes.included import index_included
from proxy.upstream.client import Call

Shape = Callable[..., dict[str, Any]]


async def single(ctx: Context, shape: Shape | None) -> LegacyResponse:
    """One call, with the entry's `body` when it has one; an unknown id is the engine's
    usual 404."""
    target = ctx.entry.calls[0]
    body = build(ctx.entry.body, ctx.params, ctx.path_params)
    call = ctx.call(target.method, target.path, path_params=ctx.entry_path_params(), query=ctx.entry_query(), body=body)
    return answer((await ctx.send(call)).document, shape)


def answer(document: dict[str, Any] | None, shape: Shape | None) -> LegacyResponse:
    """The reshaped `data` of an upstream answer; without a shape (envelope `empty`) the
    legacy empty 200."""
    if shape is None:
        return empty_response()
    document = document or {}
    return json_response(shape(document["data"], index_included(document)))


async def every(ctx: Context, shape: Shape) -> LegacyResponse:
    """Every resource of the collection, following its cursors, as a bare legacy array;
    the walk is kept as a snapshot (`proxy.engine.snapshots`) like a page list's."""
    target = ctx.entry.calls[0]
    first = ctx.call(target.method, target.path, query=ctx.entry_query())
    whole, _ = await page_window(ctx, first, shape, 0, EVERY)
    return json_response(whole)


async def page_list(ctx: Context, shape: Shape) -> LegacyResponse:
    """Emulate `page`/`count` over cursors; the walk for the total is kept as a snapshot
    (`proxy.engine.snapshots`), so later pages cost no new walk."""
    target = ctx.entry.calls[0]
    first = ctx.call(target.method, target.path, query=ctx.entry_query())
    page, count = ctx.params["page"], ctx.params["count"]
    window, total = await page_window(ctx, first, shape, page * count, (page + 1) * count)
    return json_response(page_envelope(window, page, count, total))


async def walk(ctx: Context, call: Call) -> AsyncIterator[tuple[dict[str, Any], Any]]:
    """Every resource of a cursor-paginated collection, one upstream page at a time."""
    while True:
        reply = await ctx.send(call)
        document = reply.document or {}
        included = index_included(document)
        for resource in document.get("data") or ():
            yield resource, included
        cursor = reply.next_cursor
        if not cursor:
            return
        call = ctx.call(call.method, call.path, path_params=call.path_params, query=_with_cursor(call.query, cursor))


def _with_cursor(query: tuple[tuple[str, str], ...], cursor: str) -> tuple[tuple[str, str], ...]:
    return (*((k, v) for k, v in query if k != "page[cursor]"), ("page[cursor]", cursor))
