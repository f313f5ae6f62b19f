"""The outermost middleware: a request id, one JSON log line and the metrics for every
request the proxy serves (probes stay quiet), and the upstream calls made for it.

A client that hung up before its request was complete is a client abort, not a server
error: it is logged as such and counted with nginx's status 499, and nothing is sent.
"""

from __future__ import annotations

import asyncio
import itertools
import secrets
import time

from aiohttp import web
from aiohttp.typedefs import Handler

from proxy import logs, metrics
from proxy.upstream.client import current_calls
from proxy.web import served as served_record

CLIENT_CLOSED = 499  # nginx's status for "the client closed the connection"
QUIET_PATHS = frozenset({"/healthz", "/readyz"})  # polled every few seconds by orchestrators

_REQUEST_IDS = itertools.count(1)
_PROCESS_ID = secrets.token_hex(4)  # ids stay unique across workers and restarts


class ClientAborted(Exception):
    """The client closed the connection before its request was complete."""


def next_request_id() -> str:
    return f"{_PROCESS_ID}-{next(_REQUEST_IDS):x}"


@web.middleware
async def observe(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path in QUIET_PATHS:
        return await handler(request)
    started = time.perf_counter()
    request_id = next_request_id()
    served = served_record.start(request)
    token = current_calls.set(served.calls)
    try:
        response = await handler(request)
    except ClientAborted:
        served.aborted = True
        response = web.Response(status=CLIENT_CLOSED)  # never reaches anyone: the socket is gone
    except asyncio.CancelledError:  # a server with handler_cancellation stops the handler instead
        served.aborted = True
        _record(request, served, request_id, CLIENT_CLOSED, time.perf_counter() - started)
        raise
    finally:
        current_calls.reset(token)
    _record(request, served, request_id, response.status, time.perf_counter() - started)
    response.headers["X-Request-Id"] = request_id
    return response


def _record(request: web.Request, served: served_record.Served, request_id: str, status: int, seconds: float) -> None:
    service = served.service
    route = served.route or (request.path if service else "(unmapped)")
    if not service:
        metrics.LEGACY_ANSWERED.observe(route, status, seconds)
    event = "client_abort" if served.aborted else "admin_request" if service else "legacy_request"
    logs.request_line(event, request_id, request.method, route, status, served.calls, round(seconds * 1000, 2))
