"""Reading a request body within bounds: `max_body_bytes` applies to what the body
inflates to (gzip, deflate, br), counted while it streams in, and reading stops at the
limit; `body_timeout` bounds how long the whole body may take.

Past the limit nothing more is read: with lingering off (`proxy.app` sets
`lingering_time=0`) aiohttp closes the connection after the answer instead of reading
and inflating the rest in the background.
"""

from __future__ import annotations

import asyncio

from aiohttp import web
from aiohttp.http_exceptions import ContentLengthError, HttpProcessingError
from aiohttp.web_protocol import RequestPayloadError

from proxy.legacy.errors import LegacyError
from proxy.web.observe import ClientAborted

TOO_LARGE = "The request body is too large."


async def read_body(request: web.Request, limit: int, timeout: float) -> bytes:
    if not request.body_exists:
        return b""
    if request.content_length is not None and request.content_length > limit:
        raise LegacyError(413, TOO_LARGE)
    try:
        async with asyncio.timeout(timeout):
            return await _bounded(request, limit)
    except TimeoutError:
        raise LegacyError(408, "The request body did not arrive in time.") from None
    except ConnectionError:
        raise ClientAborted from None  # the client hung up halfway through its body
    except (RequestPayloadError, HttpProcessingError) as error:  # aiohttp wraps the parser's error
        if isinstance(error.__cause__ or error, ContentLengthError) or _gone(request):
            raise ClientAborted from None
        raise LegacyError(400, "The request body does not match its Content-Encoding or Transfer-Encoding.") from None


async def _bounded(request: web.Request, limit: int) -> bytes:
    body = bytearray()
    while chunk := await request.content.readany():
        body.extend(chunk)
        if len(body) > limit:
            raise LegacyError(413, TOO_LARGE)
    return bytes(body)


def _gone(request: web.Request) -> bool:
    transport = request.transport
    return transport is None or transport.is_closing()
