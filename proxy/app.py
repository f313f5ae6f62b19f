"""Wiring: the aiohttp application that serves the legacy API."""

from __future__ import annotations

import time
import uuid

import structlog
from aiohttp import web

from proxy.config import Settings
from proxy.engine.dispatch import Engine
from proxy.legacy.errors import LegacyError, render_error
from proxy.legacy.request import parse_request
from proxy.legacy.responses import LegacyResponse
from proxy.mapping.table import Entry, family_of, load_table
from proxy.upstream.client import UpstreamClient, current_calls
from proxy.upstream.http import HTTPTransport
from proxy.upstream.transport import Transport

ENGINE = web.AppKey("engine", Engine)
UPSTREAM = web.AppKey("upstream", UpstreamClient)

log = structlog.get_logger("proxy")


def create_app(
    settings: Settings,
    *,
    transport: Transport | None = None,
    entries: list[Entry] | None = None,
) -> web.Application:
    if transport is None:
        transport = HTTPTransport(
            settings.upstream,
            connect_timeout=settings.connect_timeout,
            request_timeout=settings.request_timeout,
            max_connections=settings.upstream_concurrency,
        )
    upstream = UpstreamClient(transport, concurrency=settings.upstream_concurrency)
    app = web.Application(client_max_size=settings.max_body_bytes)
    app[UPSTREAM] = upstream
    app[ENGINE] = Engine(entries if entries is not None else load_table(settings.mappings_dir), settings, upstream)
    app.router.add_get("/healthz", _healthz)
    app.router.add_get("/readyz", _readyz)
    app.router.add_route("*", r"/{tail:[\s\S]*}", _legacy)  # any path, even with CR/LF
    app.on_cleanup.append(_close_upstream)
    return app


async def _close_upstream(app: web.Application) -> None:
    await app[UPSTREAM].aclose()


async def _healthz(_request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def _readyz(request: web.Request) -> web.Response:
    routes = len(request.app[ENGINE].router)
    return web.json_response({"status": "ready", "routes": routes})


async def _legacy(request: web.Request) -> web.StreamResponse:
    started = time.perf_counter()
    request_id = uuid.uuid4().hex
    raw_path = request.rel_url.raw_path
    family, route = family_of(raw_path), None
    calls: list = []
    token = current_calls.set(calls)
    try:
        engine = request.app[ENGINE]
        match = engine.match(request.method, raw_path)
        family, route = match.entry.family, match.entry.path
        legacy_request = parse_request(
            request.method, raw_path, request.rel_url.query.items(), request.headers, await _read_body(request)
        )
        response = await engine.handle(match, legacy_request, time.time_ns())
    except LegacyError as error:
        response = render_error(family, error)
    except Exception:
        log.exception("internal_error", request_id=request_id, route=route)
        response = render_error(family, LegacyError(500, "An internal error occurred."))
    finally:
        current_calls.reset(token)
    log.info(
        "legacy_request",
        request_id=request_id,
        method=request.method,
        route=route or "(unmapped)",
        status=response.status,
        upstream=[{"op": c.operation, "status": c.status, "ms": c.ms} for c in calls],
        total_ms=round((time.perf_counter() - started) * 1000, 2),
    )
    return _to_web(response, request_id)


async def _read_body(request: web.Request) -> bytes:
    try:
        return await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise LegacyError(413, "The request body is too large.") from None


def _to_web(response: LegacyResponse, request_id: str) -> web.Response:
    web_response = web.Response(status=response.status, body=response.body, headers=response.headers)
    web_response.headers["X-Request-Id"] = request_id
    if response.content_type:
        web_response.headers["Content-Type"] = response.content_type
    return web_response
