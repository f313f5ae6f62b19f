"""People: the v1 person update. (The person read and the v2 identifier → person id
lookups need no handler: they are mapping YAML.)"""

from __future__ import annotations

from proxy.engine.context import Context
from proxy.legacy.responses import LegacyResponse, json_response
from proxy.shapes.person import legacy_person
from proxy.shapes.person_input import update_body
from proxy.upstream.client import Reply


async def update_person(ctx: Context) -> LegacyResponse:
    """Properties come as query or form fields; PATCH answers the whole updated profile."""
    person_id = ctx.path_params["person_id"]
    body = update_body(person_id, ctx.request.params.items())
    if body is None:
        return _person(await _read(ctx))
    reply = await ctx.send(ctx.call("PATCH", "/api/profiles/{id}", path_params={"id": person_id}, body=body))
    return _person(reply)


async def _read(ctx: Context) -> Reply:
    return await ctx.send(ctx.call("GET", "/api/profiles/{id}", path_params={"id": ctx.path_params["person_id"]}))


def _person(reply: Reply) -> LegacyResponse:
    return json_response(legacy_person(reply.document["data"]))

