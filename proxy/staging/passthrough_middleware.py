"""Strangler mode in the pipeline: a request already written for the new API goes
upstream unchanged (see `passthrough`), logged and inventoried like a legacy call; its
errors come in the new API's JSON:API shape, which is what its caller understands."""

from __future__ import annotations

import orjson
from aiohttp import web
from aiohttp.typedefs import Handler

from proxy.legacy.errors import LegacyError
from proxy.openapi.spec import Spec
from proxy.staging.passthrough import forward, is_new_api
from proxy.staging.passthrough_access import allowed, passthrough_credential
from proxy.newapi.errors import TransportError, UpstreamError, UpstreamTimeout
from proxy.web.body import read_body
from proxy.web.served import served_of
from proxy.web.state import SETTINGS, UPSTREAM

_JSON_API = "application/vnd.api+json"


def passthrough(spec: Spec | None):
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        raw_path = request.rel_url.raw_path
        if not is_new_api(raw_path, request.headers):
            return await handler(request)
        return await _forward(request, raw_path, spec)

    return middleware


async def _forward(request: web.Request, raw_path: str, spec: Spec | None) -> web.Response:
    settings = request.app[SETTINGS]
    operation = spec.operation(request.method, raw_path) if spec else None
    template = operation.path if operation else raw_path.split("/")[1]
    served = served_of(request)
    served.route = f"passthrough {request.method} {template}"
    query = tuple(request.rel_url.query.items())
    served.key = passthrough_credential(raw_path, query, request.headers)
    if not allowed(settings.allowed_keys, served.key):
        return _error(403, "permission_denied", "The API key specified is invalid.")
    try:
        body = await read_body(request, settings.max_body_bytes, settings.body_timeout)
    except LegacyError as error:
        refused = _error(error.status, "invalid", error.message)
        if error.status == 413:  # the rest of the body is not read: the connection cannot carry on
            refused.force_close()
        return refused
    try:
        answer = await forward(request.app[UPSTREAM], request.method, raw_path, query, request.headers, body, f"{request.method} {template}")
    except TransportError as failure:
        status = 504 if isinstance(failure, UpstreamTimeout) else 502
        return _error(status, "upstream_unavailable", str(failure))
    except UpstreamError as failure:  # the proxy's own shared state (rate budget) is down
        return _error(503, "service_unavailable", str(failure), {"Retry-After": "1"})
    return web.Response(status=answer.status, body=answer.body, headers=answer.headers)


def _error(status: int, code: str, detail: str, headers: dict[str, str] | None = None) -> web.Response:
    title = {403: "Forbidden", 502: "Upstream unavailable", 503: "Service unavailable", 504: "Upstream unavailable"}.get(status, "Invalid request")
    body = orjson.dumps({"errors": [{"status": status, "code": code, "title": title, "detail": detail}]})
    return web.Response(status=status, body=body, content_type=_JSON_API, headers=headers)
