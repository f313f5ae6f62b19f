"""Data-privacy deletion: one identifier, looked up first because the legacy API answered
404 for someone it did not know while the new API's deletion job says nothing (202)."""

from __future__ import annotations

from typing import Any

from proxy.engine.context import Context
from proxy.engine.lookup import NO_MATCH, find_profile, one_identifier
from proxy.legacy.errors import LegacyError
from proxy.legacy.responses import LegacyResponse, json_response

IDENTIFIERS = ("email", "phone_number", "person_id")
SUBMITTED = {"results": "Submitted new deletion task for customer."}


async def deletion_request(ctx: Context) -> LegacyResponse:
    name, value = one_identifier(ctx.params, IDENTIFIERS)
    if await find_profile(ctx, "id" if name == "person_id" else name, value) is None:
        raise LegacyError(404, NO_MATCH)
    body = {"data": {"type": "data-privacy-deletion-job", "attributes": {"profile": {"data": _profile(name, value)}}}}
    await ctx.send(ctx.call("POST", "/api/data-privacy-deletion-jobs", body=body))
    return json_response(SUBMITTED, 202)


def _profile(name: str, value: str) -> dict[str, Any]:
    if name == "person_id":
        return {"type": "profile", "id": value, "attributes": {}}
    return {"type": "profile", "attributes": {name: value}}
