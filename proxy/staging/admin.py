"""The /__proxy/ staging routes: dashboard, usage, explain, legacy OpenAPI."""

from __future__ import annotations

from dataclasses import dataclass

import orjson
from aiohttp import web

from proxy.config import Settings
from proxy.legacy.errors import LegacyError
from proxy.mapping.table import Entry
from proxy.openapi.spec import Spec
from proxy.staging.catalog import CatalogEntry
from proxy.staging.dashboard import render_dashboard
from proxy.staging.explain import RENDERERS, explain
from proxy.staging.legacy_openapi import legacy_openapi
from proxy.staging.usage import UsageInventory


@dataclass
class Staging:
    entries: list[Entry]
    settings: Settings
    spec: Spec
    catalog: dict[str, CatalogEntry]
    inventory: UsageInventory


STAGING = web.AppKey("staging", Staging)


def add_admin_routes(app: web.Application) -> None:
    app.router.add_get("/__proxy/", _dashboard)
    app.router.add_get("/__proxy/usage", _usage)
    app.router.add_get("/__proxy/openapi.json", _openapi)
    app.router.add_post("/__proxy/explain", _explain)


async def _dashboard(request: web.Request) -> web.Response:
    staging = request.app[STAGING]
    return web.Response(text=render_dashboard(staging.inventory.snapshot(), staging.catalog), content_type="text/html")


async def _usage(request: web.Request) -> web.Response:
    return web.json_response({"routes": request.app[STAGING].inventory.snapshot()}, dumps=_dumps)


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
