"""Track and identify: the public, fire-and-forget endpoints that answer `1` or `0`."""

from __future__ import annotations

import base64
from collections.abc import Iterable
from dataclasses import replace

import structlog

from proxy.engine.context import Context
from proxy.engine.dispatch import SAFE_KEY
from proxy.legacy.errors import LegacyError
from proxy.legacy.payload import PayloadError, read_payload
from proxy.legacy.responses import LegacyResponse, text_response
from proxy.shapes.event_input import InvalidPayload, event_body
from proxy.shapes.profile_input import Degraded, add_exchange_id, has_identifier, keep_usable, profile_attributes
from proxy.spool.intake import accepted, current_spool
from proxy.spool.records import EVENT, PROFILE
from proxy.upstream.client import Credentials

log = structlog.get_logger("proxy.public")

# `i=1` asked for a 1×1 transparent GIF instead of the text body (email open pixels).
_PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


async def track(ctx: Context) -> LegacyResponse:
    payload = _payload(ctx)
    try:
        event = event_body(payload, ctx.received_at_ns)
    except InvalidPayload as exc:
        raise LegacyError(400, str(exc)) from None
    _log_degraded("track", event.degraded)
    path = "/api/events" if ctx.credentials.private_key else "/client/events"
    await _send_or_spool(ctx, EVENT, path, event.body, payload)
    return _accepted(ctx)


async def identify(ctx: Context) -> LegacyResponse:
    payload = _payload(ctx)
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
    await _send_or_spool(ctx, PROFILE, path, body, payload)
    return _accepted(ctx)


async def _send_or_spool(ctx: Context, kind: str, path: str, body: dict, payload: dict) -> None:
    """Send now (answer after Klaviyo's 202), or store durably for the delivery worker."""
    credentials = _credentials(ctx, payload)
    spool = current_spool.get()
    if spool is None:
        await ctx.send(ctx.call("POST", path, body=body), credentials)
    else:
        await spool.accept(accepted(kind, body, credentials.public_key or "", ctx.received_at_ns))


def _log_degraded(kind: str, degraded: Iterable[Degraded]) -> None:
    """Say which field was kept as a custom property, never its value (it may be PII)."""
    for moved in degraded:
        log.warning("unusable_field_kept_as_property", route=kind, field=moved.field, property=moved.moved_to)


def _payload(ctx: Context) -> dict:
    try:
        return read_payload(ctx.request)
    except PayloadError as exc:
        raise LegacyError(400, str(exc)) from None


def _credentials(ctx: Context, payload: dict) -> Credentials:
    if ctx.credentials.private_key:
        return ctx.credentials
    token = payload.get("token")
    if not isinstance(token, str) or not SAFE_KEY.fullmatch(token.strip()):
        raise LegacyError(400, "token missing or malformed")
    if ctx.settings.allowed_keys and token.strip() not in ctx.settings.allowed_keys:
        raise LegacyError(403, "token not allowed")
    return replace(ctx.credentials, public_key=token.strip())


def _accepted(ctx: Context) -> LegacyResponse:
    if ctx.request.params.get("i") == "1":
        return LegacyResponse(200, _PIXEL, "image/gif")
    return text_response("1")
