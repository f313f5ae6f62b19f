"""One HTTP/1.1 connection to upstream: one exchange at a time, the answer framed by
httptools (the C parser uvicorn uses) and its content coding undone.

The pool (`proxy.upstream.pool`) decides which connection carries a request; this module
only knows the wire. A connection that ends an exchange in any doubt (an error, a timeout,
bytes nobody asked for, an answer while the request is still being written) is closed and
never carries another request.
"""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import Callable

import httptools

from proxy.newapi.messages import UpstreamResponse


class ExchangeFailed(Exception):
    """The exchange got no complete answer; the message names what went wrong, never
    what was sent."""


class Connection(asyncio.Protocol):
    def __init__(self, loop: asyncio.AbstractEventLoop, on_closed: Callable[[Connection], None]) -> None:
        self._loop = loop
        self._on_closed = on_closed
        self._transport: asyncio.Transport | None = None
        self.closed = False
        self.idle_since = 0.0  # loop time; the pool's to keep
        self.lost = loop.create_future()  # resolved by connection_lost: `aclose` waits for it
        self._keep_alive = False
        # The exchange in flight (None while idle).
        self._waiter: asyncio.Future[UpstreamResponse] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._parser: httptools.HttpResponseParser | None = None
        self._head = False
        self._status = 0
        self._headers: dict[str, str] = {}
        self._body: list[bytes] = []
        self._headers_done = False

    @property
    def reusable(self) -> bool:
        """Free for the next request: the server keeps it open and all we wrote has left."""
        return self._keep_alive and not self.closed and not self._transport.get_write_buffer_size()

    def exchange(self, message: bytes, body: bytes | None, *, head: bool, deadline: float) -> asyncio.Future[UpstreamResponse]:
        """Write one request; the future settles with the answer, or fails with
        `ExchangeFailed` or `TimeoutError` (at `deadline`, loop time)."""
        self._waiter = waiter = self._loop.create_future()
        self._timer = self._loop.call_at(deadline, self._expire)
        # A fresh parser per exchange: the previous answer (a HEAD's, whose announced body
        # never comes) can leave the old one mid-message.
        self._parser = httptools.HttpResponseParser(self)
        self._head, self._headers_done, self._keep_alive = head, False, False
        self._headers, self._body = {}, []
        if body is None or len(body) < 65536:
            self._transport.write(message + body if body else message)  # one segment
        else:
            self._transport.write(message)  # not copied into a second, bigger buffer
            self._transport.write(body)
        return waiter

    def close(self) -> None:
        """Close an idle connection politely (TLS close_notify included)."""
        self._closed()
        self._transport.close()

    def abort(self, reason: str = "ConnectionAborted") -> None:
        """Drop the connection at once: whatever it was doing can no longer be trusted.
        An exchange still waiting fails with `reason`."""
        self._settle(ExchangeFailed(reason))
        self._closed()
        self._transport.abort()

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.Transport) -> None:
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        if self._waiter is None:  # nobody asked: the connection's state is unknown
            self.abort()
            return
        try:
            self._parser.feed_data(data)
        except (httptools.HttpParserError, httptools.HttpParserUpgrade) as error:
            self._fail(ExchangeFailed(type(error).__name__))

    def eof_received(self) -> None:
        self._ended(None)
        self._closed()  # never handed out again, even before connection_lost arrives

    def connection_lost(self, exc: Exception | None) -> None:
        self._ended(exc)
        self._closed()
        if not self.lost.done():
            self.lost.set_result(None)

    # httptools callbacks

    def on_header(self, name: bytes, value: bytes) -> None:
        # One value per name, as callers read a dict: a name the server repeats (with the
        # same spelling) gets its values joined with ", ", the list form RFC 9110 §5.3
        # makes equivalent.
        key = name.decode("utf-8", "surrogateescape")
        text = value.decode("utf-8", "surrogateescape")
        headers = self._headers
        headers[key] = f"{headers[key]}, {text}" if key in headers else text

    def on_headers_complete(self) -> None:
        if self._waiter is None:  # a second answer nobody asked for
            self.abort()
            return
        self._status = self._parser.get_status_code()
        if self._status < 200:  # 1xx: an interim answer; the real one follows
            return
        self._headers_done = True
        if self._head:  # the parser cannot know a HEAD's announced body never comes
            self._complete()

    def on_body(self, chunk: bytes) -> None:
        self._body.append(chunk)

    def on_message_complete(self) -> None:
        if self._waiter is None:
            if not self._head:  # bytes beyond the answer
                self.abort()
            return
        if self._status < 200:
            self._headers = {}
            return
        self._complete()

    # internals

    def _complete(self) -> None:
        self._keep_alive = self._parser.should_keep_alive()  # HTTP/1.0 and `Connection: close` say no
        body = b"".join(self._body)
        coding = _content_coding(self._headers) if body else None
        if coding is not None:
            try:
                body = _decoded(body, coding)
            except zlib.error:
                self._fail(ExchangeFailed("ContentEncodingError"))
                return
        self._settle(UpstreamResponse(self._status, self._headers, body))

    def _ended(self, exc: Exception | None) -> None:
        """The server closed (cleanly when `exc` is None): for an answer framed by neither
        Content-Length nor chunks that is its end, otherwise the exchange failed."""
        if self._waiter is None:
            return
        if exc is None and self._headers_done and not _framed(self._headers):
            self._keep_alive = False
            self._complete()
        elif exc is not None:
            self._fail(ExchangeFailed(type(exc).__name__))
        else:
            self._fail(ExchangeFailed("IncompleteBody" if self._headers_done else "ServerDisconnected"))

    def _expire(self) -> None:
        self._timer = None
        self._fail(TimeoutError())

    def _fail(self, error: BaseException) -> None:
        self._settle(error)
        self.abort()  # settled already: the error above is what the caller sees

    def _settle(self, outcome: UpstreamResponse | BaseException) -> None:
        waiter, self._waiter = self._waiter, None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if waiter is None or waiter.done():  # already settled, or its caller was cancelled
            return
        if isinstance(outcome, BaseException):
            waiter.set_exception(outcome)
        else:
            waiter.set_result(outcome)

    def _closed(self) -> None:
        if not self.closed:
            self.closed = True
            self._on_closed(self)


def _framed(headers: dict[str, str]) -> bool:
    return any(name.lower() in ("content-length", "transfer-encoding") for name in headers)


def _content_coding(headers: dict[str, str]) -> str | None:
    for name, value in headers.items():
        if name.lower() == "content-encoding":
            coding = value.strip().lower()
            return coding if coding in ("gzip", "x-gzip", "deflate") else None
    return None


def _decoded(body: bytes, coding: str) -> bytes:
    """Undo gzip or deflate; a stream that stops short is an error, not a shorter body.
    `deflate` is meant to be zlib-wrapped (RFC 9110 §8.4.1.2) but some servers send it raw."""
    if coding == "deflate":
        wrapped = len(body) >= 2 and body[0] & 0x0F == 8 and (body[0] << 8 | body[1]) % 31 == 0
        inflater = zlib.decompressobj(zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS)
        decoded = inflater.decompress(body)
        if not inflater.eof or inflater.unused_data:
            raise zlib.error("incomplete or trailing deflate data")
        return decoded
    parts = []
    while body:  # a gzip body may be several members one after another (RFC 1952 §2.2)
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        parts.append(inflater.decompress(body))
        if not inflater.eof:
            raise zlib.error("incomplete gzip data")
        body = inflater.unused_data
    return b"".join(parts)
