"""Reading a request body within bounds. The proxy inflates compressed bodies itself
(aiohttp's own decompression is off, `proxy.app`), so that:

- `max_body_bytes` applies to what the body inflates to, counted while it streams in, and
  reading stops at the limit (with lingering off aiohttp then closes the connection
  instead of reading and inflating the rest in the background);
- a body that is not what its `Content-Encoding` says (not gzip, not deflate, cut short,
  trailing bytes) is a legacy 400, and an encoding the proxy does not speak a 415;
- `body_timeout` bounds how long the whole body may take.
"""

from __future__ import annotations

import asyncio
import zlib

from aiohttp import web
from aiohttp.http_exceptions import ContentLengthError, HttpProcessingError
from aiohttp.web_protocol import RequestPayloadError

from proxy.legacy.errors import LegacyError
from proxy.web.observe import ClientAborted

TOO_LARGE = "The request body is too large."
NOT_ENCODED = "The request body does not match its Content-Encoding or Transfer-Encoding."
_GZIP_WBITS, _ZLIB_WBITS, _RAW_WBITS = 16 + zlib.MAX_WBITS, zlib.MAX_WBITS, -zlib.MAX_WBITS
CODINGS = ("gzip", "x-gzip", "deflate")


async def read_body(request: web.Request, limit: int, timeout: float) -> bytes:
    if not request.body_exists:
        return b""
    coding = _coding(request.headers.get("Content-Encoding", ""))
    length = request.content_length
    if length is not None and length > limit:
        raise LegacyError(413, TOO_LARGE)
    content = request.content
    try:
        if content.is_eof():  # all of it came with the headers: nothing to time out
            if coding is None:  # and nothing to inflate: it is what is buffered (most bodies)
                return _whole(content.read_nowait(-1), limit)
            return await _bounded(request, limit, coding)
        async with asyncio.timeout(timeout):
            return await _bounded(request, limit, coding)
    except TimeoutError:
        raise LegacyError(408, "The request body did not arrive in time.") from None
    except ConnectionError:
        raise ClientAborted from None  # the client hung up halfway through its body
    except (RequestPayloadError, HttpProcessingError) as error:  # aiohttp wraps the parser's error
        if isinstance(error.__cause__ or error, ContentLengthError) or _gone(request):
            raise ClientAborted from None
        raise LegacyError(400, NOT_ENCODED) from None
    except zlib.error:
        raise LegacyError(400, NOT_ENCODED) from None


def _coding(header: str) -> str | None:
    if not header:
        return None
    codings = [coding.strip().lower() for coding in header.split(",") if coding.strip().lower() not in ("", "identity")]
    if not codings:
        return None
    if len(codings) > 1 or codings[0] not in CODINGS:
        raise LegacyError(415, f"Unsupported Content-Encoding {header.strip()!r}: send gzip, deflate or none.")
    return codings[0]


async def _bounded(request: web.Request, limit: int, coding: str | None) -> bytes:
    inflater = _Inflater(coding) if coding else None
    body, received = bytearray(), 0
    while chunk := await request.content.readany():
        received += len(chunk)
        body.extend(inflater.feed(chunk, limit - len(body)) if inflater else chunk)
        if len(body) > limit or received > limit:
            raise LegacyError(413, TOO_LARGE)
    if inflater:
        inflater.finish()
    return bytes(body)


def _whole(body: bytes, limit: int) -> bytes:
    if len(body) > limit:  # a chunked body announces no length to check beforehand
        raise LegacyError(413, TOO_LARGE)
    return body


class _Inflater:
    """gzip or deflate, inflated a bounded amount at a time (never more than the room
    left under the limit, plus one byte to tell that it overflowed)."""

    def __init__(self, coding: str) -> None:
        self._coding = coding
        self._stream: zlib._Decompress | None = None

    def feed(self, chunk: bytes, room: int) -> bytes:
        if self._stream is None:
            self._stream = zlib.decompressobj(self._wbits(chunk[0]))
        if self._stream.eof:
            raise zlib.error("data after the end of the compressed stream")
        out = self._stream.decompress(chunk, room + 1)
        while self._stream.unconsumed_tail and len(out) <= room:
            out += self._stream.decompress(self._stream.unconsumed_tail, room + 1 - len(out))
        if self._stream.unused_data:
            raise zlib.error("data after the end of the compressed stream")
        return out

    def finish(self) -> None:
        if self._stream is None or not self._stream.eof:
            raise zlib.error("the compressed stream is cut short")

    def _wbits(self, first: int) -> int:
        if self._coding != "deflate":
            return _GZIP_WBITS
        # RFC 9110's deflate is zlib-wrapped; many clients send raw deflate instead
        # (a zlib stream's first byte names method 8 in its low four bits).
        return _ZLIB_WBITS if first & 0x0F == 8 else _RAW_WBITS


def _gone(request: web.Request) -> bool:
    transport = request.transport
    return transport is None or transport.is_closing()
