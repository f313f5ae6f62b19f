"""Requests aiohttp cannot parse (a request line over its limit, a non-ASCII byte in the
URL, a control character in a header) never reach the app: aiohttp answers them itself,
in plain text that quotes the raw request line (keys and all), and logs that line with
a traceback. Here they get a legacy-shaped 400 that quotes nothing, and one log line
that names only the kind of fault.

aiohttp has no per-application hook for this answer, only `RequestHandler.handle_error`,
so it is replaced for the process; other failures keep aiohttp's own handling.
"""

from __future__ import annotations

from typing import Any

import orjson
import structlog
from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_protocol import RequestHandler

log = structlog.get_logger("proxy")

MESSAGE = "The request could not be parsed."
_aiohttp_handle_error = RequestHandler.handle_error


def answer_in_legacy_shape() -> None:
    """Idempotent: every app in the process answers unparseable requests this way."""
    RequestHandler.handle_error = _handle_error  # type: ignore[method-assign]


def _handle_error(
    self: RequestHandler,
    request: Any,
    status: int = 500,
    exc: BaseException | None = None,
    message: str | None = None,
) -> web.StreamResponse:
    if not isinstance(exc, HttpProcessingError):
        return _aiohttp_handle_error(self, request, status, exc, message)
    log.warning("malformed_request", status=status, fault=type(exc).__name__)
    if request.writer.output_size > 0:
        raise ConnectionError("an answer was already under way")
    response = web.Response(
        status=status, body=orjson.dumps({"status": status, "message": MESSAGE}), content_type="application/json"
    )
    response.force_close()
    return response
