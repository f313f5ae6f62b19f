"""Wiring: the aiohttp application that serves the legacy API, as a middleware pipeline
(see `proxy.web`) whose optional staging stages the settings switch on."""

from __future__ import annotations

import asyncio

import structlog
from aiohttp import web

from proxy.backends import spool_opener, state_for
from proxy.config import Settings
from proxy.engine.dispatch import Engine
from proxy.handlers.registry import HANDLERS
from proxy.mapping.table import Entry, load_table
from proxy.newapi.transport import Transport
from proxy.openapi.spec import Spec, pinned_spec
from proxy.spool.service import SpoolService
from proxy.staging.admin import PREFIX, STAGING, Staging, admin_app
from proxy.staging.catalog import build_catalog
from proxy.staging.deprecation_middleware import deprecation_headers
from proxy.staging.passthrough_middleware import passthrough
from proxy.staging.usage import FLUSH_EVERY, UsageInventory
from proxy.staging.usage_recording import usage_recording
from proxy.state.store import State
from proxy.upstream.client import UpstreamClient
from proxy.upstream.http import HTTPTransport
from proxy.upstream.stack import build_stack
from proxy.web import malformed
from proxy.web.admin_access import admin_access
from proxy.web.legacy_errors import legacy_errors
from proxy.web.legacy_route import serve_legacy
from proxy.web.observe import observe
from proxy.web.probes import add_probe_routes
from proxy.web.state import ENGINE, SETTINGS, SPOOL, STACK, UPSTREAM

STATE = web.AppKey("state", State)  # closed last, after the usage inventory's final flush

log = structlog.get_logger("proxy")


def create_app(
    settings: Settings,
    *,
    transport: Transport | None = None,
    entries: list[Entry] | None = None,
    spec: Spec | None = None,
    state: State | None = None,
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
    state = state or state_for(settings)
    stack = build_stack(transport, settings, state.budget)
    upstream = UpstreamClient(stack.transport)
    staging = Staging(entries, settings, spec, build_catalog(entries, spec), UsageInventory(state.usage))
    malformed.answer_in_legacy_shape()
    # The proxy inflates compressed bodies itself, within its limits (`proxy.web.body`);
    # lingering_time=0: a body it stopped reading (too large, refused) is not read on in
    # the background after the answer; the connection closes instead.
    app = web.Application(handler_args={"auto_decompress": False, "lingering_time": 0})
    app[SETTINGS], app[UPSTREAM], app[STACK], app[STAGING] = settings, upstream, stack, staging
    app[STATE] = state
    app.cleanup_ctx.append(_state_lifecycle)
    delivery = None  # send now
    if settings.delivery == "spool":
        delivery = app[SPOOL] = SpoolService(settings, upstream, stack.tiers, spool_opener(settings))
        app.cleanup_ctx.append(app[SPOOL].lifecycle)
    app[ENGINE] = Engine(entries, settings, upstream, HANDLERS, delivery=delivery, state=state.values)
    app.middlewares.extend(_pipeline(settings, staging))
    add_probe_routes(app)
    if settings.admin and settings.admin_port is None:
        app.add_subapp(PREFIX, admin_app(staging))
    elif settings.admin:
        app.cleanup_ctx.append(_admin_site(staging))
    app.router.add_route("*", r"/{tail:[\s\S]*}", serve_legacy)  # any path, even with CR/LF
    app.on_cleanup.append(_close_upstream)
    return app


def _pipeline(settings: Settings, staging: Staging) -> list:
    """Outermost first; each staging stage only when its setting is on."""
    stages: list = [observe]
    if settings.admin:
        stages.append(usage_recording(staging))
    stages.append(legacy_errors)
    if settings.deprecation_headers:
        stages.append(deprecation_headers(staging.catalog))
    stages.append(admin_access(settings.admin_token))
    if settings.passthrough:
        stages.append(passthrough(staging.spec))
    return stages


def _admin_site(staging: Staging):
    """The staging routes on their own port, sharing the main app's staging state."""

    async def site(_app: web.Application):
        settings = staging.settings
        root = web.Application(middlewares=[observe, admin_access(settings.admin_token)])
        root.add_subapp(PREFIX, admin_app(staging))
        runner = web.AppRunner(root, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, settings.host, settings.admin_port).start()
        yield
        await runner.cleanup()

    return site


async def _close_upstream(app: web.Application) -> None:
    await app[UPSTREAM].aclose()


async def _state_lifecycle(app: web.Application):
    """Merge the usage buffer into the shared store every second, and close the store last."""
    inventory = app[STAGING].inventory
    log.info("state_store", where=app[STATE].where)

    async def flush() -> None:
        try:
            await inventory.flush()
        except Exception:  # the store is down for a moment: keep serving (and shutting down)
            log.warning("usage_flush_failed", exc_info=True)

    async def flush_now_and_then() -> None:
        while True:
            await asyncio.sleep(FLUSH_EVERY)
            await flush()

    flusher = asyncio.create_task(flush_now_and_then())
    yield
    flusher.cancel()
    await flush()  # this process's last counts; lost only when the store is down at shutdown
    await app[STATE].aclose()
