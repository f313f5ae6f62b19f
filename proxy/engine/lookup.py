"""Finding the profile a legacy identifier names: the new API has no identifier-addressed
endpoints (hazard 1), so it is one filtered `GET /api/profiles`.

As a mapping step (`lookup:` in an entry, legacy parameter → profile field), the client
names exactly one of the parameters; the found profile is reshaped, and none is the v2 404.
"""

from __future__ import annotations

from typing import Any, Mapping

from proxy.engine.context import Context
from proxy.engine.styles import Shape
from proxy.legacy.errors import LegacyError
from proxy.legacy.responses import LegacyResponse, json_response
from proxy.newapi.messages import Query
from proxy.shapes.filter_expr import equals

NO_MATCH = "There is no profile matching the given parameters."


async def find_profile(ctx: Context, field: str, value: str, view: Query = ()) -> dict[str, Any] | None:
    """The profile whose `field` equals `value` (`view` adds fields or additional-fields)."""
    condition = equals(field, value)
    reply = await ctx.send(ctx.call("GET", "/api/profiles", query=(("filter", condition), ("page[size]", "1"), *view)))
    return next(iter((reply.document or {}).get("data") or ()), None)


def one_identifier(params: Mapping[str, Any], names: tuple[str, ...]) -> tuple[str, str]:
    """The one identifier among `names` the client gave; legacy 400 for none or several."""
    given = [(name, params[name]) for name in names if params.get(name)]
    choices = ", ".join(names[:-1]) + f" or {names[-1]}"
    if len(given) != 1:
        quantity = "Specify one of" if not given else "Specify only one of"
        raise LegacyError(400, f"{quantity} {choices}.")
    return given[0]


async def lookup(ctx: Context, shape: Shape) -> LegacyResponse:
    name, value = one_identifier(ctx.params, tuple(ctx.entry.lookup))
    profile = await find_profile(ctx, ctx.entry.lookup[name], value)
    if profile is None:
        raise LegacyError(404, NO_MATCH)
    return json_response(shape(profile, {}))
