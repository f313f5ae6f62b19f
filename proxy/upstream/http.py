"""The network transport: HTTP/1.1 over a keep-alive pool per upstream base URL.

A lean client instead of aiohttp's: every translated request makes one or more upstream
calls, and aiohttp's client spent more CPU on each (tracing hooks, cookie jar, header
merging, URL objects, timeout managers) than the translation itself. What a call needs is
here: a request written in one piece, the answer framed by httptools
(`proxy.upstream.connection`), connections reused up to a limit (`proxy.upstream.pool`).
It never sends a request twice: `proxy.upstream.retry` above it decides what may be.
"""

from __future__ import annotations

import ssl
import string
from urllib.parse import quote, urlsplit

from proxy import __version__
from proxy.newapi.errors import UpstreamTimeout, UpstreamUnreachable
from proxy.newapi.messages import UpstreamRequest, UpstreamResponse
from proxy.upstream.connection import ExchangeFailed
from proxy.upstream.pool import Pool


# What `quote(text, safe="[]")` leaves as it is: RFC 3986's unreserved characters and the
# brackets of `page[size]`.
_KEPT = (string.ascii_letters + string.digits + "_.-~[]").encode()


def upstream_url(base_url: str, request: UpstreamRequest) -> str:
    """The full URL; the path arrives percent-encoded and must not be normalised again."""
    query = "&".join(f"{_quoted(name)}={_quoted(value)}" for name, value in request.query)
    return base_url + request.path + (f"?{query}" if query else "")


def _quoted(text: str) -> str:
    """`quote(text, safe="[]")`, for ASCII text one C-speed replace per distinct character to
    escape: urllib's quotes byte by byte in Python, a fifth of the cost of a push-token read
    whose `filter` names 100 profile ids."""
    if not text.isascii():
        return quote(text, safe="[]")
    # The characters left once the kept ones are deleted (in C; a set of the whole text
    # costs as much as the replacing).
    escaped = set(text.encode().translate(None, _KEPT).decode())
    if "%" in escaped:  # first, so the escapes made below are not escaped again
        text = text.replace("%", "%25")
        escaped.discard("%")
    for character in escaped:
        text = text.replace(character, f"%{ord(character):02X}")
    return text


# Methods whose request carries a body by definition: without one they say
# `Content-Length: 0`, as aiohttp did, so no server waits for a body or refuses with 411.
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
# Written by the transport alone: it owns the framing and the connection's life.
_OWN_HEADERS = frozenset({"host", "content-length", "transfer-encoding", "connection"})
# Sent unless the request says otherwise. gzip and deflate: big pages stay compressed on
# the wire (the connection inflates them).
_DEFAULT_HEADERS = (
    ("user-agent", f"User-Agent: klaviyo-legacy-proxy/{__version__}\r\n"),
    ("accept", "Accept: */*\r\n"),
    ("accept-encoding", "Accept-Encoding: gzip, deflate\r\n"),
)


# Request heads remembered (`HTTPTransport._message`); past that they are forgotten together
# (paths that carry ids make many).
_HEADS_KEPT = 1024


class HTTPTransport:
    def __init__(self, base_url: str, *, connect_timeout: float, request_timeout: float, max_connections: int):
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.query:
            raise ValueError("the upstream must be an http(s) URL without credentials or query")
        self._tls = parts.scheme == "https"
        default_port = 443 if self._tls else 80
        self._host, self._port = parts.hostname, parts.port or default_port
        host = f"[{self._host}]" if ":" in self._host else self._host
        authority = host if self._port == default_port else f"{host}:{self._port}"
        self._request_line_end = f" HTTP/1.1\r\nHost: {authority}\r\n"
        self._path_prefix = parts.path.rstrip("/")  # the request paths go under it
        self._connect_timeout = connect_timeout
        self._request_timeout = request_timeout
        self._max_connections = max_connections
        self._pool: Pool | None = None
        self._heads: dict[tuple[object, ...], bytes] = {}  # `_message`'s, by method, path, query and headers

    def _open(self) -> Pool:
        # Certificates and host names verified against the system's trust store; SNI is sent.
        tls = ssl.create_default_context() if self._tls else None
        self._pool = Pool(self._host, self._port, tls, limit=self._max_connections, connect_timeout=self._connect_timeout)
        return self._pool

    async def send(self, request: UpstreamRequest) -> UpstreamResponse:
        pool = self._pool or self._open()
        now = pool.time()
        deadline = now + self._request_timeout
        message = self._message(request)
        try:
            connection = pool.take(now) or await pool.acquire(deadline)
            try:
                response = await connection.exchange(message, request.body, head=request.method == "HEAD", deadline=deadline)
            except BaseException:  # failed, timed out or cancelled: its state is unknown
                pool.discard(connection)
                raise
            pool.release(connection)
            return response
        except TimeoutError:
            raise UpstreamTimeout(f"{request.method} {request.path} timed out") from None
        except ExchangeFailed as failure:
            raise UpstreamUnreachable(f"{request.method} {request.path}: {failure}") from None
        except OSError as failure:  # refused, unresolvable, reset, TLS verification
            raise UpstreamUnreachable(f"{request.method} {request.path}: {type(failure).__name__}") from None

    def _message(self, request: UpstreamRequest) -> bytes:
        """The request line and headers, ready for the wire. All but the length are the same
        for every call of an operation with the same credentials and query (a track's
        are), so they are written and checked once (`_head`) and then looked up."""
        key = (request.method, request.path, request.query, tuple(request.headers.items()))
        head = self._heads.get(key)
        if head is None:
            if len(self._heads) >= _HEADS_KEPT:
                self._heads.clear()
            head = self._heads[key] = self._head(request)
        body = request.body
        if body is not None or request.method in _BODY_METHODS:
            return head + b"Content-Length: %d\r\n\r\n" % (len(body) if body else 0)
        return head + b"\r\n"

    def _head(self, request: UpstreamRequest) -> bytes:
        """The request line and every header but the length."""
        target = upstream_url(self._path_prefix, request)
        headers = request.headers
        names = {name.lower() for name in headers}
        lines = [request.method, " ", target, self._request_line_end]
        lines.extend(line for name, line in _DEFAULT_HEADERS if name not in names)
        lines.extend(f"{name}: {value}\r\n" for name, value in headers.items() if name.lower() not in _OWN_HEADERS)
        text = "".join(lines)
        # Every line break is one this method wrote: a CR or LF inside a value or the path
        # would let it smuggle headers or a second request (aiohttp refused them too).
        breaks = text.count("\n")
        if breaks != len(lines) - 2 or text.count("\r") != breaks or " " in target:
            raise ValueError(f"{request.method}: a line break in a header, or a space in the path")
        return text.encode("utf-8", "surrogateescape")

    async def aclose(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.aclose()
