"""The /__proxy/ staging routes: dashboard, usage, explain, legacy OpenAPI (who may\nreach them: `proxy.web.admin_access`)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import orjson
from aiohttp import web

from proxy.config import Settings
from proxy.legacy.errors import LegacyError
from proxy.mapping.table import Entry
from proxy.openapi.spec import Spec
from proxy.staging.activity import RouteActivity
from proxy.staging.catalog import CatalogEntry
from proxy.staging.dashboard import render_dashboard
from proxy.staging.explain import RENDERERS, explain
from proxy.staging.legacy_openapi import legacy_openapi
from proxy.staging.migration import MigrationError
from proxy.staging.migration_page import CONTENT_TYPES, MIGRATION_PLANS, PlanCache
from proxy.staging.usage import UsageInventory, report


@dataclass
class Staging:
    entries: list[Entry]
    settings: Settings
    spec: Spec
    catalog: dict[str, CatalogEntry]
    inventory: UsageInventory
    activity: RouteActivity = field(default_factory=RouteActivity)


STAGING = web.AppKey("staging", Staging)


PREFIX = "/__proxy"


def admin_app(staging: Staging) -> web.Application:
    """The staging routes as a sub-app, mounted at `PREFIX` on the main or the admin port."""
    admin = web.Application()
    admin[STAGING] = staging
    admin[MIGRATION_PLANS] = PlanCache(staging.entries, staging.spec)
    admin.router.add_get("/", _dashboard)
    admin.router.add_get("/usage", _usage)
    admin.router.add_get("/openapi.json", _openapi)
    admin.router.add_post("/explain", _explain)
    admin.router.add_get("/migration", _migration)
    return admin


async def _dashboard(request: web.Request) -> web.Response:
    staging = request.app[STAGING]
    try:
        page = int(request.query.get("page", "0"))
    except ValueError:
        page = 0
    key = request.query.get("key") or None

    rows = await staging.inventory.rows()  # the shared store's I/O stays on the loop

    def draw() -> str:
        # O(keys) from the rows on, so off the event loop: a key flood must not stall the
        # requests the proxy serves.
        return render_dashboard(report(rows), staging.catalog, key, page, staging.activity.series)

    html = await asyncio.to_thread(draw)
    return web.Response(text=html, content_type="text/html")


async def _migration(request: web.Request) -> web.Response:
    """The migration plan: `?format=html|markdown|json`, `?used=1` for the routes this proxy served."""
    staging = request.app[STAGING]
    output = request.query.get("format", "html")
    if output not in CONTENT_TYPES:
        return _error(400, "format: html, markdown or json")
    usage = await staging.inventory.snapshot() if request.query.get("used") in ("1", "true") else None
    try:
        text = await request.app[MIGRATION_PLANS].render(output, usage)
    except MigrationError as error:  # a mapping entry without its migration: block
        return _error(503, str(error))
    return web.Response(text=text, content_type=CONTENT_TYPES[output], charset="utf-8")


async def _usage(request: web.Request) -> web.Response:
    return web.json_response({"routes": await request.app[STAGING].inventory.snapshot()}, dumps=_dumps)


async def _openapi(request: web.Request) -> web.Response:
    return web.json_response(legacy_openapi(request.app[STAGING].entries), dumps=_dumps)


async def _explain(request: web.Request) -> web.Response:
    """Body: {"request": "GET /api/v1/…?api_key=…", "data": "…", "headers": {…}, "format": "text|curl|json"}."""
    staging = request.app[STAGING]
    try:
        ask = orjson.loads(await request.read())
        method, _, target = str(ask["request"]).strip().partition(" ")
        renderer = RENDERERS[ask.get("format", "json")]
        body = str(ask.get("data", "")).encode()
        headers = {str(k): str(v) for k, v in (ask.get("headers") or {}).items()}
    except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError):
        return _error(400, 'Send {"request": "METHOD /path?query", "data"?, "headers"?, "format"?: text|curl|json}.')
    try:
        explanation = await explain(staging.entries, staging.settings, staging.spec, method, target.strip(), body, headers)
    except LegacyError as error:
        return _error(error.status, error.message)
    rendered = renderer(explanation)
    content_type = "application/json" if renderer is RENDERERS["json"] else "text/plain"
    return web.Response(text=rendered, content_type=content_type)


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"status": status, "message": message}, status=status)


def _dumps(value: object) -> str:
    return orjson.dumps(value).decode()
