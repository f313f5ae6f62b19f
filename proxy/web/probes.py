"""Liveness, readiness and metrics. Probes say ready or not, never where the proxy's
dependencies live; `/metrics` sits behind `admin_access` with the staging routes."""

from __future__ import annotations

from aiohttp import web

from proxy import metrics
from proxy.readiness import readiness
from proxy.web.state import ENGINE, SPOOL, STACK


def add_probe_routes(app: web.Application) -> None:
    app.router.add_get("/healthz", _healthz)
    app.router.add_get("/readyz", _readyz)
    app.router.add_get("/metrics", _metrics)


async def _healthz(_request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def _readyz(request: web.Request) -> web.Response:
    ready, report = await readiness(request.app[STACK].observed, request.app.get(SPOOL))
    return web.json_response({**report, "routes": len(request.app[ENGINE].router)}, status=200 if ready else 503)


async def _metrics(request: web.Request) -> web.Response:
    body, content_type = metrics.exposition(request.headers.get("Accept", ""))
    return web.Response(body=body, headers={"Content-Type": content_type})
