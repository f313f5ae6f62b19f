"""The legacy route: match the mapping table, read and parse the request, let the engine
answer. Failures propagate as `LegacyError`s for `legacy_errors` to render."""

from __future__ import annotations

import time

from aiohttp import web

from proxy.legacy.request import parse_request
from proxy.web.body import read_body
from proxy.web.legacy_errors import to_web
from proxy.web.served import served_of
from proxy.web.state import ENGINE, SETTINGS


async def serve_legacy(request: web.Request) -> web.Response:
    served = served_of(request)
    engine, settings = request.app[ENGINE], request.app[SETTINGS]
    raw_path = request.rel_url.raw_path
    match = engine.match(request.method, raw_path)
    served.family, served.route = match.entry.family, match.entry.legacy
    body = await read_body(request, settings.max_body_bytes, settings.body_timeout)
    legacy_request = parse_request(request.method, raw_path, request.rel_url.query, request.headers, body)
    served.key = legacy_request.api_key
    return to_web(await engine.handle(match, legacy_request, time.time_ns()))
