"""The upstream HTTP client (`proxy.upstream.http`) against real local servers: aiohttp's
for well-behaved answers, raw asyncio servers for the edges a well-behaved server never
shows (answers cut short, garbage, interim answers, closed idle connections)."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import ssl
import time
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
import trustme
from aiohttp import web

from proxy import __version__
from proxy.newapi.errors import UpstreamTimeout, UpstreamUnreachable
from proxy.newapi.messages import UpstreamRequest
from proxy.upstream import pool
from proxy.upstream.http import HTTPTransport

SECRET = "pk_0123456789abcdef0123456789abcdef"


def transport(base_url: str, *, max_connections: int = 4, request_timeout: float = 5.0, connect_timeout: float = 2.0) -> HTTPTransport:
    return HTTPTransport(base_url, connect_timeout=connect_timeout, request_timeout=request_timeout, max_connections=max_connections)


@contextlib.asynccontextmanager
async def opened(base_url: str, **settings) -> AsyncIterator[HTTPTransport]:
    """A transport closed when the test is done with it, whatever happened."""
    upstream = transport(base_url, **settings)
    try:
        yield upstream
    finally:
        await upstream.aclose()


def get(path: str = "/api/x", **kwargs) -> UpstreamRequest:
    return UpstreamRequest("GET", path, **kwargs)


@pytest.fixture
async def served(aiohttp_server):
    """An aiohttp upstream answering every path with `answer(request)`; `peers` records the
    client port of each request (one port per connection)."""
    peers: list[int] = []

    async def start(answer: Callable[[web.Request], Awaitable[web.StreamResponse]]):
        async def handle(request: web.Request) -> web.StreamResponse:
            peers.append(request.transport.get_extra_info("peername")[1])
            return await answer(request)

        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", handle)
        server = await aiohttp_server(app)
        return f"http://127.0.0.1:{server.port}", peers

    return start


class RawServer:
    """A TCP server whose every connection runs `script(reader, writer)`: it answers
    whatever bytes the test wants. It records the requests it read and connections seen."""

    def __init__(self, script: Callable[[RawServer, asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]):
        self._script = script
        self.requests: list[bytes] = []
        self.connections = 0
        self.closed_by_client = asyncio.Event()
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> str:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"

    async def __aexit__(self, *exc) -> None:
        self._server.close()
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            await self._script(self, reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    async def read_request(self, reader: asyncio.StreamReader) -> bytes | None:
        """One request (head and Content-Length body), or None when the client closed."""
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            self.closed_by_client.set()
            return None
        length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")), 0)
        request = head + await reader.readexactly(length)
        self.requests.append(request)
        return request


def answering(*answers: bytes, then_close: bool = False):
    """A raw script: for each request read, the next of `answers`, verbatim."""

    async def script(server: RawServer, reader, writer) -> None:
        for answer in answers:
            if await server.read_request(reader) is None:
                return
            writer.write(answer)
            await writer.drain()
        if then_close:
            return
        await server.read_request(reader)  # hold the connection until the client closes it

    return script


async def test_sequential_calls_share_one_keep_alive_connection(served):
    base, peers = await served(lambda request: asyncio.sleep(0, web.json_response({"path": request.path_qs})))
    async with opened(base) as upstream:
        for number in range(5):
            response = await upstream.send(get("/api/x", query=(("n", str(number)),)))
            assert response.status == 200 and response.body == b'{"path": "/api/x?n=%d"}' % number
    assert len(set(peers)) == 1


async def test_the_wire_form_of_a_request():
    server = RawServer(answering(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"))
    async with server as base:
        upstream = transport(base + "/prefix/")
        request = UpstreamRequest(
            "POST", "/api/profiles/01H%2F", (("filter", "equals(email,'a+b@example.com')"), ("page[size]", "10")),
            {"Authorization": f"Klaviyo-API-Key {SECRET}", "revision": "2026-07-15", "Accept": "application/vnd.api+json",
             "Host": "elsewhere.example", "Connection": "close"},
            b'{"data": 1}',
        )
        try:
            await upstream.send(request)
            await upstream.send(UpstreamRequest("PATCH", "/api/empty"))
        finally:
            await upstream.aclose()
    port = base.rsplit(":", 1)[1]
    assert server.requests == [
        b"POST /prefix/api/profiles/01H%2F?filter=equals%28email%2C%27a%2Bb%40example.com%27%29&page[size]=10 HTTP/1.1\r\n"
        b"Host: 127.0.0.1:" + port.encode() + b"\r\n"
        b"User-Agent: klaviyo-legacy-proxy/" + __version__.encode() + b"\r\n"
        b"Accept-Encoding: gzip, deflate\r\n"
        b"Authorization: Klaviyo-API-Key " + SECRET.encode() + b"\r\n"
        b"revision: 2026-07-15\r\n"
        b"Accept: application/vnd.api+json\r\n"
        b"Content-Length: 11\r\n\r\n"
        b'{"data": 1}',
        b"PATCH /prefix/api/empty HTTP/1.1\r\nHost: 127.0.0.1:" + port.encode() + b"\r\n"
        b"User-Agent: klaviyo-legacy-proxy/" + __version__.encode() + b"\r\nAccept: */*\r\n"
        b"Accept-Encoding: gzip, deflate\r\nContent-Length: 0\r\n\r\n",
    ]
    assert server.connections == 1  # the request's own `Connection: close` is not the transport's


async def test_calls_of_one_operation_share_a_head_but_each_carries_its_own_length_and_body():
    ok = b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n"
    server = RawServer(answering(ok, ok, ok))
    headers = {"revision": "2026-07-15", "Content-Type": "application/vnd.api+json"}
    async with server as base:
        async with opened(base) as upstream:
            for body in (b'{"n": 1}', b'{"n": 12}', b'{"n": 1}'):
                await upstream.send(UpstreamRequest("POST", "/client/events", (("company_id", "DemoPk"),), dict(headers), body))
    head = (
        b"POST /client/events?company_id=DemoPk HTTP/1.1\r\nHost: " + base.removeprefix("http://").encode() + b"\r\n"
        b"User-Agent: klaviyo-legacy-proxy/" + __version__.encode() + b"\r\nAccept: */*\r\nAccept-Encoding: gzip, deflate\r\n"
        b"revision: 2026-07-15\r\nContent-Type: application/vnd.api+json\r\n"
    )
    assert server.requests == [
        head + b'Content-Length: 8\r\n\r\n{"n": 1}',
        head + b'Content-Length: 9\r\n\r\n{"n": 12}',
        head + b'Content-Length: 8\r\n\r\n{"n": 1}',
    ]


async def test_a_refused_head_is_refused_every_time():
    server = RawServer(answering())
    async with server as base:
        async with opened(base) as upstream:
            for _ in range(2):
                with pytest.raises(ValueError):
                    await upstream.send(get(headers={"X-Note": "a\nX-Injected: 1"}))
    assert server.connections == 0


async def test_a_line_break_in_a_header_is_refused_before_anything_is_sent():
    server = RawServer(answering())
    async with server as base:
        async with opened(base) as upstream:
            with pytest.raises(ValueError) as refused:
                await upstream.send(get(headers={"X-Note": "a\r\nX-Injected: 1"}))
    assert "Injected" not in str(refused.value)
    assert server.connections == 0


async def test_the_pool_never_opens_more_than_max_connections(served):
    in_flight = peak = 0

    async def answer(_request: web.Request) -> web.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.05)
        in_flight -= 1
        return web.Response(text="ok")

    base, peers = await served(answer)
    async with opened(base, max_connections=2) as upstream:
        responses = await asyncio.gather(*(upstream.send(get()) for _ in range(10)))
    assert [response.body for response in responses] == [b"ok"] * 10
    assert peak == 2 and len(set(peers)) == 2


async def test_a_caller_already_waiting_goes_before_a_newcomer():
    async with RawServer(answering(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")) as base:
        slots = pool.Pool("127.0.0.1", int(base.rsplit(":", 1)[1]), None, limit=1, connect_timeout=1)
        deadline = slots.time() + 5
        first = await slots.acquire(deadline)
        waiting = asyncio.ensure_future(slots.acquire(deadline))
        await asyncio.sleep(0.01)
        await first.exchange(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", None, head=False, deadline=deadline)
        slots.release(first)
        assert slots.take(slots.time()) is None  # the newcomer may not jump the queue
        assert await waiting is first
        await slots.aclose()


async def test_a_caller_waiting_for_a_connection_times_out_with_the_request_timeout(served):
    release = asyncio.Event()

    async def answer(_request: web.Request) -> web.Response:
        await release.wait()
        return web.Response(text="late")

    base, _ = await served(answer)
    upstream = transport(base, max_connections=1, request_timeout=0.3)
    try:
        first = asyncio.ensure_future(upstream.send(get()))
        await asyncio.sleep(0.05)
        started = time.monotonic()
        with pytest.raises(UpstreamTimeout):
            await upstream.send(get("/api/second"))
        assert 0.2 < time.monotonic() - started < 1.5
        with pytest.raises(UpstreamTimeout):
            await first
        release.set()
        assert (await upstream.send(get())).body == b"late"  # the slot came back
    finally:
        release.set()
        await upstream.aclose()


async def test_a_chunked_answer_is_read_whole(served):
    async def answer(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        response.enable_chunked_encoding()
        await response.prepare(request)
        for part in (b"first,", b"second,", b"third"):
            await response.write(part)
        await response.write_eof()
        return response

    base, peers = await served(answer)
    async with opened(base) as upstream:
        assert (await upstream.send(get())).body == b"first,second,third"
        assert (await upstream.send(get())).body == b"first,second,third"
    assert len(set(peers)) == 1


@pytest.mark.parametrize(
    ("coding", "compress"),
    [
        ("gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("deflate", lambda data: zlib.compress(data)[2:-4]),  # raw deflate, as some servers send it
    ],
)
async def test_a_compressed_answer_is_inflated(served, coding, compress):
    document = b'{"data": [' + b",".join(b'{"id": "%d"}' % number for number in range(20000)) + b"]}"
    seen = {}

    async def answer(request: web.Request) -> web.Response:
        seen["accept"] = request.headers["Accept-Encoding"]
        return web.Response(body=compress(document), headers={"Content-Encoding": coding})

    base, _ = await served(answer)
    async with opened(base) as upstream:
        response = await upstream.send(get())
    assert seen["accept"] == "gzip, deflate"
    assert response.body == document


async def test_a_truncated_gzip_body_is_no_answer():
    body = gzip.compress(b"x" * 10000)[:-10]
    answer = b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
    async with RawServer(answering(answer)) as base:
        async with opened(base) as upstream:
            with pytest.raises(UpstreamUnreachable, match="GET /api/x: ContentEncodingError"):
                await upstream.send(get())


async def test_connection_close_in_an_answer_is_honoured(served):
    base, peers = await served(lambda _request: asyncio.sleep(0, web.Response(text="ok", headers={"Connection": "close"})))
    async with opened(base) as upstream:
        for _ in range(3):
            assert (await upstream.send(get())).body == b"ok"
    assert len(set(peers)) == 3


async def test_an_http_1_0_answer_closes_and_its_body_may_end_with_the_connection():
    server = RawServer(answering(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end", then_close=True))
    async with server as base:
        async with opened(base) as upstream:
            assert (await upstream.send(get())).body == b"until the end"
            assert (await upstream.send(get())).body == b"until the end"
    assert server.connections == 2


async def test_a_connection_the_server_closed_while_idle_is_not_reused():
    ok = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    server = RawServer(answering(ok, then_close=True))  # keep-alive announced, then closed
    async with server as base:
        async with opened(base) as upstream:
            assert (await upstream.send(get())).body == b"ok"
            await asyncio.sleep(0.1)  # the close arrives while the connection is idle
            assert (await upstream.send(get())).body == b"ok"
    assert server.connections == 2


async def test_a_connection_idle_past_the_keep_alive_is_closed_not_used(monkeypatch):
    monkeypatch.setattr(pool, "KEEP_ALIVE", 0.2)
    ok = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    server = RawServer(answering(ok, ok))
    async with server as base:
        async with opened(base) as upstream:
            await upstream.send(get())
            await upstream.send(get())  # at once: the same connection
            await asyncio.sleep(0.3)  # the server keeps it open, silently
            assert (await upstream.send(get())).body == b"ok"
            await asyncio.wait_for(server.closed_by_client.wait(), 2)  # the stale one was closed
    assert server.connections == 2


async def test_interim_answers_are_skipped_and_bodiless_answers_have_no_body():
    answers = (
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Tag: a\r\nX-Tag: b\r\n\r\nfinal",
        b"HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n",
        b"HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n",  # HEAD: the announced body never comes
        b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nlast",
    )
    server = RawServer(answering(*answers))
    async with server as base:
        async with opened(base) as upstream:
            first = await upstream.send(get())
            assert (first.status, first.body, first.header("x-tag"), first.header("link")) == (200, b"final", "a, b", None)
            assert [(r.status, r.body) for r in [await upstream.send(get()), await upstream.send(get())]] == [(204, b""), (304, b"")]
            head = await upstream.send(UpstreamRequest("HEAD", "/api/x"))
            assert (head.status, head.body, head.header("Content-Length")) == (200, b"", "5")
            assert (await upstream.send(get())).body == b"last"
    assert server.connections == 1


async def test_connection_refused_is_unreachable_and_names_no_secret(unused_tcp_port):
    upstream = transport(f"http://127.0.0.1:{unused_tcp_port}")
    request = get("/api/profiles", query=(("filter", "equals(email,'someone@example.com')"),), headers={"Authorization": f"Klaviyo-API-Key {SECRET}"})
    try:
        with pytest.raises(UpstreamUnreachable) as failure:
            await upstream.send(request)
    finally:
        await upstream.aclose()
    assert str(failure.value) == "GET /api/profiles: ConnectionRefusedError"


async def test_a_slow_upstream_times_out_within_the_request_timeout_and_its_connection_is_dropped():
    async def slow_first(server: RawServer, reader, writer) -> None:
        await server.read_request(reader)
        if server.connections == 1:
            await server.read_request(reader)  # never answers; sees the client close
            return
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nfast")
        await server.read_request(reader)

    server = RawServer(slow_first)
    async with server as base:
        async with opened(base, request_timeout=0.3) as upstream:
            started = time.monotonic()
            with pytest.raises(UpstreamTimeout, match="GET /api/x timed out"):
                await upstream.send(get())
            assert 0.25 < time.monotonic() - started < 1.5
            await asyncio.wait_for(server.closed_by_client.wait(), 2)
            assert (await upstream.send(get())).body == b"fast"
    assert server.connections == 2


@pytest.mark.parametrize(
    ("answer", "kind"),
    [
        (b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten b", "IncompleteBody"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n", "IncompleteBody"),
        (b"HTTP/1.1 200 OK\r\nContent-Le", "ServerDisconnected"),
        (b"", "ServerDisconnected"),
        (b"SMTP ready\r\n\r\n", "HttpParserError"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", "HttpParserError"),
    ],
)
async def test_an_answer_cut_short_or_garbled_is_unreachable_and_sent_once(answer, kind):
    async def once(server: RawServer, reader, writer) -> None:
        await server.read_request(reader)
        writer.write(answer)

    server = RawServer(once)
    async with server as base:
        async with opened(base) as upstream:
            with pytest.raises(UpstreamUnreachable) as failure:
                await upstream.send(UpstreamRequest("POST", "/api/events", body=b"{}"))
    assert str(failure.value) == f"POST /api/events: {kind}"
    assert len(server.requests) == 1  # never sent again by the transport


async def test_bytes_nobody_asked_for_close_the_connection():
    answer = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nno"
    server = RawServer(answering(answer, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
    async with server as base:
        async with opened(base) as upstream:
            assert (await upstream.send(get())).body == b"ok"
            assert (await upstream.send(get())).body == b"ok"
    assert server.connections == 2


async def test_megabytes_each_way(served):
    document = bytes(range(256)) * (6 * 4096)  # 6 MiB, incompressible enough

    async def echo(request: web.Request) -> web.Response:
        return web.Response(body=await request.read())

    base, peers = await served(echo)
    async with opened(base) as upstream:
        for _ in range(2):
            assert (await upstream.send(UpstreamRequest("POST", "/api/echo", body=document))).body == document
    assert len(set(peers)) == 1


async def test_a_cancelled_call_closes_its_connection():
    arrived = asyncio.Event()

    async def hold(server: RawServer, reader, writer) -> None:
        await server.read_request(reader)
        if server.connections == 1:
            arrived.set()
            await server.read_request(reader)  # returns when the client closes
            return
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfresh")
        await server.read_request(reader)

    server = RawServer(hold)
    async with server as base:
        async with opened(base, max_connections=1) as upstream:
            call = asyncio.ensure_future(upstream.send(get()))
            await asyncio.wait_for(arrived.wait(), 2)
            call.cancel()
            with pytest.raises(asyncio.CancelledError):
                await call
            await asyncio.wait_for(server.closed_by_client.wait(), 2)
            assert (await upstream.send(get())).body == b"fresh"  # its slot is free again
    assert server.connections == 2


async def test_aclose_closes_every_connection():
    server = RawServer(answering(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
    async with server as base:
        upstream = transport(base)
        await upstream.send(get())
        await upstream.aclose()
        await asyncio.wait_for(server.closed_by_client.wait(), 2)


@pytest.fixture
def authority(monkeypatch, tmp_path) -> trustme.CA:
    """A throwaway CA the default TLS context trusts, as the system's store would."""
    ca = trustme.CA()
    ca.cert_pem.write_to_path(tmp_path / "ca.pem")
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "ca.pem"))
    return ca


async def tls_server(aiohttp_server, authority: trustme.CA, name: str):
    certificate = authority.issue_cert(name)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    certificate.configure_cert(context)

    async def host(request: web.Request) -> web.Response:
        return web.Response(text=request.headers["Host"])

    app = web.Application()
    app.router.add_get("/api/x", host)
    return await aiohttp_server(app, ssl=context)


async def test_https_verifies_the_certificate_and_sends_the_name(aiohttp_server, authority):
    server = await tls_server(aiohttp_server, authority, "localhost")
    async with opened(f"https://localhost:{server.port}") as upstream:
        assert (await upstream.send(get())).body == f"localhost:{server.port}".encode()
        assert (await upstream.send(get())).status == 200


async def test_https_refuses_a_certificate_for_another_name(aiohttp_server, authority):
    server = await tls_server(aiohttp_server, authority, "a.klaviyo.com")
    async with opened(f"https://localhost:{server.port}") as upstream:
        with pytest.raises(UpstreamUnreachable, match="GET /api/x: SSLCertVerificationError"):
            await upstream.send(get())


async def test_https_refuses_a_certificate_from_an_untrusted_authority(aiohttp_server, authority):
    server = await tls_server(aiohttp_server, trustme.CA(), "localhost")
    async with opened(f"https://localhost:{server.port}") as upstream:
        with pytest.raises(UpstreamUnreachable, match="GET /api/x: SSLCertVerificationError"):
            await upstream.send(get())


async def test_a_tls_handshake_that_never_finishes_times_out_with_the_connect_timeout():
    server = RawServer(answering())  # accepts, reads the ClientHello as garbage, says nothing
    async with server as base:
        async with opened(base.replace("http://", "https://"), connect_timeout=0.2, request_timeout=5) as upstream:
            started = time.monotonic()
            with pytest.raises(UpstreamTimeout, match="GET /api/x timed out"):
                await upstream.send(get())
            assert 0.15 < time.monotonic() - started < 1.5
