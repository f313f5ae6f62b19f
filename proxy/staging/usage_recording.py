"""The usage inventory's place in the pipeline: every legacy and passthrough request
is recorded (route, key fingerprint, status, the operations it became, latency), and
counted in the route's activity (the dashboard's sparkline)."""

from __future__ import annotations

import time

from aiohttp import web
from aiohttp.typedefs import Handler

from proxy.staging.admin import Staging
from proxy.web.served import served_of


def usage_recording(staging: Staging):
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        served = served_of(request)
        if served.service:
            return await handler(request)
        started = time.perf_counter()
        response = await handler(request)
        ms = round((time.perf_counter() - started) * 1000, 2)
        operations = [call.operation for call in served.calls]
        route = served.route or "(unmapped)"
        staging.inventory.record(route, served.key, response.status, operations, ms)
        staging.activity.record(route)
        return response

    return middleware
