"""Finding the people a legacy call names in a collection (`match:` in a mapping entry).

Legacy people calls name people by emails, phone numbers and push tokens, in several wire
forms (`proxy.shapes.member_input`); the new API finds them only by filter (hazard 1).
Each identifier's values are asked for in filtered reads of 100 (the new API's largest
page), every page of each, a few reads at a time. As a mapping step, the found resources
are reshaped once each, in the order found, as a bare legacy array.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from proxy.engine.context import Context
from proxy.engine.fanout import collect, gather_bounded, in_batches
from proxy.engine.styles import Shape
from proxy.legacy.errors import LegacyError
from proxy.legacy.responses import LegacyResponse, json_response
from proxy.newapi.messages import Query
from proxy.shapes.filter_expr import any_of
from proxy.shapes.member_input import Identifiers, check_count, identifiers_from
from proxy.shapes.members import unique
from proxy.upstream.client import Call

LOOKUP_SIZE = 100  # values per any(…) filter: the new API's largest page


def requested_identifiers(ctx: Context, limit: int | None = None) -> Identifiers:
    """The identifiers the call names; a legacy 400 when there are none (or too many)."""
    identifiers = identifiers_from(ctx.request.params)
    if limit is not None:
        check_count(identifiers, limit)
    if not identifiers.given():
        raise LegacyError(400, "At least one of emails, phone_numbers or push_tokens is required.")
    return identifiers


async def find_named(
    ctx: Context, path: str, path_params: Mapping[str, str], identifiers: Identifiers, view: Query
) -> list[tuple[str, dict[str, Any]]]:
    """(field that matched, resource) for every given identifier found in the collection."""
    lookups = [
        (field, filtered(ctx, path, path_params, field, batch, view))
        for field, values in identifiers.given().items()
        for batch in in_batches(values, LOOKUP_SIZE)
    ]
    found = await gather_bounded(collect(ctx, call) for _, call in lookups)
    return [(field, resource) for (field, _), resources in zip(lookups, found) for resource in resources]


def filtered(ctx: Context, path: str, path_params: Mapping[str, str], field: str, values: Sequence[str], view: Query) -> Call:
    """The read of the collection's resources whose `field` is one of `values`."""
    query = (("filter", any_of(field, values)), ("page[size]", str(LOOKUP_SIZE)), *view)
    return ctx.call("GET", path, path_params=dict(path_params), query=query)


async def matched(ctx: Context, shape: Shape) -> LegacyResponse:
    identifiers = requested_identifiers(ctx, (ctx.entry.match or {}).get("at_most"))
    target = ctx.entry.calls[0]
    found = await find_named(ctx, target.path, ctx.entry_path_params(), identifiers, ctx.entry_query())
    return json_response(unique(shape(resource, {}) for _, resource in found))
