"""Track and identify: the public, fire-and-forget endpoints that answer `1` or `0`."""

from __future__ import annotations

import base64
from collections.abc import Iterable
from dataclasses import replace

import structlog

from proxy.engine.auth import with_token
from proxy.engine.context import Context
from proxy.legacy.errors import LegacyError
from proxy.legacy.payload import read_payload
from proxy.legacy.responses import LegacyResponse, text_response
from proxy.shapes.event_input import event_body
from proxy.shapes.profile_input import Degraded, add_exchange_id, has_identifier, keep_usable, profile_attributes
from proxy.upstream.client import Credentials

log = structlog.get_logger("proxy.public")

# `i=1` asked for a 1×1 transparent GIF instead of the text body (email open pixels).
# Both answers never change, so they are built once (a LegacyResponse is immutable, and
# the edge copies its headers).
_PIXEL = LegacyResponse(200, base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7"), "image/gif")
_ONE = text_response("1")


async def track(ctx: Context) -> LegacyResponse:
    payload = read_payload(ctx.request)
    event = event_body(payload, ctx.received_at_ns)
    _log_degraded("track", event.degraded)
    path = "/api/events" if ctx.credentials.private_key else "/client/events"
    await ctx.deliver(ctx.call("POST", path, body=event.body), _credentials(ctx, payload))
    return _accepted(ctx)


async def identify(ctx: Context) -> LegacyResponse:
    payload = read_payload(ctx.request)
    properties = payload.get("properties")
    if not isinstance(properties, dict):
        raise LegacyError(400, "properties must be an object")
    attributes = profile_attributes(properties)
    add_exchange_id(attributes, payload)
    _log_degraded("identify", [replace(d, field=f"properties.{d.field}") for d in keep_usable(attributes)])
    if not has_identifier(attributes):
        raise LegacyError(400, "properties need a usable $email, $phone_number, $id or $exchange_id")
    body = {"data": {"type": "profile", "attributes": attributes}}
    path = "/api/profile-import" if ctx.credentials.private_key else "/client/profiles"
    await ctx.deliver(ctx.call("POST", path, body=body), _credentials(ctx, payload))
    return _accepted(ctx)


def _log_degraded(kind: str, degraded: Iterable[Degraded]) -> None:
    """Say which field was kept as a custom property, never its value (it may be PII)."""
    for moved in degraded:
        log.warning("unusable_field_kept_as_property", route=kind, field=moved.field, property=moved.moved_to)


def _credentials(ctx: Context, payload: dict) -> Credentials:
    return with_token(ctx.credentials, payload.get("token"), ctx.settings)


def _accepted(ctx: Context) -> LegacyResponse:
    return _PIXEL if ctx.request.params.get("i") == "1" else _ONE
