"""People: the v1 person read and update, and the v2 identifier → person id lookups."""

from __future__ import annotations

from proxy.engine.context import Context
from proxy.handlers.lookup import NO_MATCH, find_profile, one_identifier
from proxy.legacy.errors import LegacyError
from proxy.legacy.responses import LegacyResponse, json_response
from proxy.shapes.person import legacy_person
from proxy.shapes.person_input import update_body
from proxy.upstream.client import Reply

SEARCHABLE = ("email", "phone_number", "external_id")


async def update_person(ctx: Context) -> LegacyResponse:
    """Properties come as query or form fields; PATCH answers the whole updated profile."""
    person_id = ctx.path_params["person_id"]
    body = update_body(person_id, ctx.request.params.items())
    if body is None:
        return _person(await _read(ctx))
    reply = await ctx.send(ctx.call("PATCH", "/api/profiles/{id}", path_params={"id": person_id}, body=body))
    return _person(reply)


async def search(ctx: Context) -> LegacyResponse:
    field, value = one_identifier(ctx.params, SEARCHABLE)
    return await _profile_id(ctx, field, value)


async def exchange(ctx: Context) -> LegacyResponse:
    """`exchange_id` is the `_kx` parameter of a Klaviyo link."""
    return await _profile_id(ctx, "_kx", ctx.params["exchange_id"])


async def _read(ctx: Context) -> Reply:
    return await ctx.send(ctx.call("GET", "/api/profiles/{id}", path_params={"id": ctx.path_params["person_id"]}))


def _person(reply: Reply) -> LegacyResponse:
    return json_response(legacy_person(reply.document["data"]))


async def _profile_id(ctx: Context, field: str, value: str) -> LegacyResponse:
    profile = await find_profile(ctx, field, value)
    if profile is None:
        raise LegacyError(404, NO_MATCH)
    return json_response({"id": profile["id"]})
