"""Wiring: the aiohttp application that serves the legacy API."""

from __future__ import annotations

import asyncio
import time
import itertools
import secrets
from dataclasses import dataclass

import orjson
import structlog
from aiohttp import web

from proxy import metrics
from proxy.backends import budget_for, spool_opener
from proxy.config import Settings
from proxy.engine.dispatch import Engine
from proxy.engine.state import MemoryState
from proxy.handlers.registry import HANDLERS
from proxy.legacy.errors import LegacyError, render_error
from proxy.legacy.request import parse_request
from proxy.legacy.responses import LegacyResponse
from proxy.mapping.table import Entry, family_of, load_table
from proxy.newapi.errors import TransportError, UpstreamTimeout
from proxy.newapi.transport import Transport
from proxy.openapi.spec import Spec, pinned_spec
from proxy.readiness import readiness
from proxy.spool.service import SpoolService
from proxy.staging.admin import STAGING, Staging, add_admin_routes
from proxy.staging.catalog import build_catalog
from proxy.staging.passthrough import forward, is_new_api
from proxy.staging.usage import UsageInventory
from proxy.upstream.client import CallRecord, UpstreamClient, current_calls
from proxy.upstream.http import HTTPTransport
from proxy.upstream.stack import Stack, build_stack

ENGINE = web.AppKey("engine", Engine)
UPSTREAM = web.AppKey("upstream", UpstreamClient)
STACK = web.AppKey("stack", Stack)
SPOOL = web.AppKey("spool", SpoolService)

log = structlog.get_logger("proxy")
_REQUEST_IDS = itertools.count(1)
_PROCESS_ID = secrets.token_hex(4)  # ids stay unique across workers and restarts


def next_request_id() -> str:
    return f"{_PROCESS_ID}-{next(_REQUEST_IDS):x}"


@dataclass(slots=True)
class Served:
    """What one request became, for its log line and the usage inventory."""

    response: LegacyResponse
    route: str | None = None  # the mapped legacy route, or "passthrough …"
    key: str | None = None


def create_app(
    settings: Settings,
    *,
    transport: Transport | None = None,
    entries: list[Entry] | None = None,
    spec: Spec | None = None,
) -> web.Application:
    if transport is None:
        transport = HTTPTransport(
            settings.upstream,
            connect_timeout=settings.connect_timeout,
            request_timeout=settings.request_timeout,
            max_connections=settings.upstream_concurrency,
        )
    entries = entries if entries is not None else load_table(settings.mappings_dir)
    spec = spec or pinned_spec()
    stack = build_stack(transport, settings, budget_for(settings))
    upstream = UpstreamClient(stack.transport)
    app = web.Application(client_max_size=settings.max_body_bytes)
    app[UPSTREAM] = upstream
    app[STACK] = stack
    delivery = None  # send now
    if settings.delivery == "spool":
        delivery = app[SPOOL] = SpoolService(settings, upstream, stack.tiers, spool_opener(settings))
        app.cleanup_ctx.append(app[SPOOL].lifecycle)
    app[ENGINE] = Engine(entries, settings, upstream, HANDLERS, delivery=delivery, state=MemoryState())
    app[STAGING] = Staging(entries, settings, spec, build_catalog(entries, spec), UsageInventory())
    app.router.add_get("/healthz", _healthz)
    app.router.add_get("/readyz", _readyz)
    app.router.add_get("/metrics", _metrics)
    if settings.admin and settings.admin_port is None:
        add_admin_routes(app)
    elif settings.admin:
        app.cleanup_ctx.append(_admin_site)
    app.router.add_route("*", r"/{tail:[\s\S]*}", _serve)  # any path, even with CR/LF
    app.on_cleanup.append(_close_upstream)
    return app


async def _admin_site(app: web.Application):
    """The /__proxy/ routes on their own port, sharing the main app's staging state."""
    settings = app[STAGING].settings
    admin = web.Application()
    admin[STAGING] = app[STAGING]
    add_admin_routes(admin)
    runner = web.AppRunner(admin, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, settings.host, settings.admin_port).start()
    yield
    await runner.cleanup()


async def _close_upstream(app: web.Application) -> None:
    await app[UPSTREAM].aclose()


async def _healthz(_request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def _readyz(request: web.Request) -> web.Response:
    routes = len(request.app[ENGINE].router)
    ready, report = await readiness(request.app[STACK].observed, request.app.get(SPOOL))
    return web.json_response({**report, "routes": routes}, status=200 if ready else 503)


async def _metrics(request: web.Request) -> web.Response:
    body, content_type = metrics.exposition(request.headers.get("Accept", ""))
    return web.Response(body=body, headers={"Content-Type": content_type})


async def _serve(request: web.Request) -> web.StreamResponse:
    started = time.perf_counter()
    request_id = next_request_id()
    calls: list[CallRecord] = []
    token = current_calls.set(calls)
    try:
        served = await _dispatch(request)
    finally:
        current_calls.reset(token)
    ms = round((time.perf_counter() - started) * 1000, 2)
    route = served.route or "(unmapped)"
    metrics.legacy_request(route, served.response.status, time.perf_counter() - started)
    operations = [call.operation for call in calls]
    request.app[STAGING].inventory.record(route, served.key, served.response.status, operations, ms)
    request.app[STAGING].activity.record(route)
    log.info(
        "legacy_request",
        request_id=request_id,
        method=request.method,
        route=route,
        status=served.response.status,
        upstream=[{"op": c.operation, "status": c.status, "ms": c.ms} for c in calls],
        total_ms=ms,
    )
    return _to_web(served.response, request_id)


async def _dispatch(request: web.Request) -> Served:
    raw_path = request.rel_url.raw_path
    family = family_of(raw_path)
    served = Served(LegacyResponse(500, b""))
    try:
        engine = request.app[ENGINE]
        try:
            match = engine.match(request.method, raw_path)
        except LegacyError:
            if is_new_api(raw_path, request.headers):
                return await _passthrough(request, raw_path)
            raise
        family, served.route = match.entry.family, match.entry.legacy
        legacy_request = parse_request(
            request.method, raw_path, request.rel_url.query.items(), request.headers, await _read_body(request)
        )
        served.key = legacy_request.api_key
        served.response = await engine.handle(match, legacy_request, time.time_ns())
        if request.app[STAGING].settings.deprecation_headers:
            _add_deprecation(request.app[STAGING], served)
    except LegacyError as error:
        served.response = render_error(family, error)
    except Exception:
        log.exception("internal_error", route=served.route)
        served.response = render_error(family, LegacyError(500, "An internal error occurred."))
    return served


def _add_deprecation(staging: Staging, served: Served) -> None:
    headers = {**served.response.headers, **staging.catalog[served.route].deprecation}
    served.response = LegacyResponse(served.response.status, served.response.body, served.response.content_type, headers)


async def _passthrough(request: web.Request, raw_path: str) -> Served:
    staging = request.app[STAGING]
    operation = staging.spec.operation(request.method, raw_path)
    route = f"passthrough {request.method} {operation.path if operation else raw_path.split('/')[1]}"
    try:
        upstream_response = await forward(
            request.app[UPSTREAM],
            request.method,
            raw_path,
            tuple(request.rel_url.query.items()),
            request.headers,
            await _read_body(request),
            route.removeprefix("passthrough "),
        )
    except TransportError as failure:
        status = 504 if isinstance(failure, UpstreamTimeout) else 502
        body = orjson.dumps({"errors": [{"status": status, "code": "upstream_unavailable", "title": "Upstream unavailable", "detail": str(failure)}]})
        return Served(LegacyResponse(status, body, "application/vnd.api+json"), route)
    response = LegacyResponse(upstream_response.status, upstream_response.body, None, upstream_response.headers)
    return Served(response, route)


async def _read_body(request: web.Request) -> bytes:
    if not request.body_exists:
        return b""
    try:
        return await asyncio.wait_for(request.read(), request.app[STAGING].settings.body_timeout)
    except web.HTTPRequestEntityTooLarge:
        raise LegacyError(413, "The request body is too large.") from None
    except asyncio.TimeoutError:
        raise LegacyError(408, "The request body did not arrive in time.") from None


def _to_web(response: LegacyResponse, request_id: str) -> web.Response:
    web_response = web.Response(status=response.status, body=response.body, headers=response.headers)
    web_response.headers["X-Request-Id"] = request_id
    if response.content_type:
        web_response.headers["Content-Type"] = response.content_type
    return web_response
