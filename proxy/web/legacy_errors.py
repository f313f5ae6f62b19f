"""Every failure in the caller's legacy dialect, rendered in one place: a `LegacyError`
as the family's error body, a write the spool refused as a 503 (track and identify
answer `0`), anything unexpected as its 500 (logged with a traceback, never shown to the
client)."""

from __future__ import annotations

import structlog
from aiohttp import web
from aiohttp.typedefs import Handler

from proxy.legacy.errors import LegacyError, render_error
from proxy.legacy.responses import LegacyResponse
from proxy.spool.records import SpoolRefused
from proxy.web.observe import ClientAborted
from proxy.web.served import served_of

log = structlog.get_logger("proxy")


def to_web(response: LegacyResponse) -> web.Response:
    web_response = web.Response(status=response.status, body=response.body, headers=response.headers)
    if response.content_type:
        web_response.headers["Content-Type"] = response.content_type
    return web_response


@web.middleware
async def legacy_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except LegacyError as error:
        response = to_web(render_error(served_of(request).family, error))
        if error.status == 413:  # the rest of the body is not read: the connection cannot carry on
            response.force_close()
        return response
    except SpoolRefused as refused:  # counted and logged by the spool
        return to_web(render_error(served_of(request).family, LegacyError(503, f"The write was not accepted: {refused}.")))
    except (ClientAborted, web.HTTPException):
        raise
    except Exception:
        served = served_of(request)
        log.exception("internal_error", route=served.route)
        return to_web(render_error(served.family, LegacyError(500, "An internal error occurred.")))
