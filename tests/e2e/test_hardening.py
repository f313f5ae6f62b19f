"""Issue 16's hostile inputs, each against a live proxy over real sockets: nothing the
client sends gets a 500, echoes a key, reaches upstream when it should not, or keeps the
server busy after it has been answered."""

from __future__ import annotations

import asyncio
import gzip
import json
import time
import zlib

import aiohttp
import pytest
from aiohttp import web
from prometheus_client import REGISTRY

from proxy.sandbox.seed import DEMO_PRIVATE_KEY as PRIVATE_KEY
from proxy.sandbox.seed import DEMO_PUBLIC_KEY as PUBLIC_KEY

EMAIL, PHONE = "ada.lovelace@example.com", "+14155550123"
TRACK = json.dumps({"token": PUBLIC_KEY, "event": "Hardened", "customer_properties": {"$email": EMAIL}})


async def exchange(proxy, raw: bytes, *, read_for: float = 5) -> bytes:
    """Send raw bytes and read until the server closes the connection (or `read_for` passes)."""
    reader, writer = await asyncio.open_connection(proxy.host, proxy.port)
    writer.write(raw)
    await writer.drain()
    answer = b""
    try:
        async with asyncio.timeout(read_for):
            while chunk := await reader.read(65536):
                answer += chunk
    except TimeoutError:
        pass
    writer.close()
    return answer


def split(answer: bytes) -> tuple[int, bytes]:
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


# -- 1. requests aiohttp cannot parse ------------------------------------------------

MALFORMED = {
    "request line over the limit": (
        f"GET /api/v1/metrics?api_key={PRIVATE_KEY}&email={EMAIL}&pad={'x' * 9000} HTTP/1.1\r\nHost: x\r\n\r\n"
    ).encode(),
    "non-ASCII byte in the URL": f"GET /api/v1/metrics?api_key={PRIVATE_KEY}&n=".encode() + b"\xc3\xa9 HTTP/1.1\r\nHost: x\r\n\r\n",
    "control character in a header": (
        f"GET /api/v1/metrics?api_key={PRIVATE_KEY} HTTP/1.1\r\nHost: x\r\nX-Phone: {PHONE}\x01{EMAIL}\r\n\r\n"
    ).encode(),
}


@pytest.mark.parametrize("probe", MALFORMED, ids=list(MALFORMED))
async def test_unparseable_requests_get_a_legacy_400_that_echoes_nothing(proxy, contract, probe, capsys):
    status, body = split(await exchange(proxy, MALFORMED[probe]))
    assert status == 400
    assert json.loads(body) == {"status": 400, "message": "The request could not be parsed."}
    logged = capsys.readouterr().out
    for secret in (PRIVATE_KEY, EMAIL, PHONE):
        assert secret.encode() not in body and secret not in logged
    assert '"event":"malformed_request"' in logged
    assert contract.requests == []


# -- 2. the allow-list covers the passthrough ----------------------------------------

PASSTHROUGH = {
    "private key": ("/api/profiles", {}, {"Authorization": f"Klaviyo-API-Key {PRIVATE_KEY}"}),
    "public token": ("/client/events", {"company_id": PUBLIC_KEY}, {}),
    "no credential": ("/api/profiles", {}, {}),
}


@pytest.mark.parametrize("caller", PASSTHROUGH, ids=list(PASSTHROUGH))
async def test_passthrough_refuses_keys_off_the_allow_list(make_proxy, contract, caller):
    path, query, headers = PASSTHROUGH[caller]
    proxy = await make_proxy(allowed_keys=frozenset({"pk_someone_else_entirely_000000000", "Other1"}))
    method = "GET" if path == "/api/profiles" else "POST"
    response = await proxy.request(method, path, params=query, headers={"revision": "2026-07-15", **headers}, data=b"{}")
    assert response.status == 403
    assert (await response.json())["errors"][0]["detail"] == "The API key specified is invalid."
    assert contract.requests == []


async def test_passthrough_forwards_keys_on_the_allow_list(make_proxy, contract):
    proxy = await make_proxy(allowed_keys=frozenset({PRIVATE_KEY}))
    headers = {"revision": "2026-07-15", "Authorization": f"Klaviyo-API-Key {PRIVATE_KEY}"}
    response = await proxy.get("/api/metrics", headers=headers)
    assert response.status == 200 and len(contract.requests) == 1


# -- 3. staging and metrics are not public -------------------------------------------

PRIVATE_ROUTES = [("GET", "/__proxy/"), ("GET", "/__proxy/usage"), ("GET", "/__proxy/openapi.json"),
                  ("POST", "/__proxy/explain"), ("GET", "/metrics")]  # fmt: skip


def remote_peer(address: str):
    """Makes every request look as if it came from `address` (the test client is on loopback)."""

    @web.middleware
    async def middleware(request: web.Request, handler):
        return await handler(request.clone(remote=address))

    return middleware


async def admin_proxy(aiohttp_client, contract, spec, peer: str, **changes):
    from dataclasses import replace

    from proxy.app import create_app
    from proxy.config import Settings

    app = create_app(replace(Settings(), **changes), transport=contract, spec=spec)
    app.middlewares.insert(0, remote_peer(peer))
    return await aiohttp_client(app)


@pytest.mark.parametrize(("method", "path"), PRIVATE_ROUTES)
async def test_staging_routes_refuse_remote_callers_without_a_token(aiohttp_client, contract, spec, method, path):
    proxy = await admin_proxy(aiohttp_client, contract, spec, "203.0.113.7")
    response = await proxy.request(method, path, json={"request": "GET /api/v1/metrics"})
    assert response.status == 403
    assert "upstream" not in await response.text()
    legacy = await proxy.get("/api/v1/metrics", params={"api_key": PRIVATE_KEY})
    assert legacy.status == 200  # the legacy surface stays public


@pytest.mark.parametrize(("method", "path"), PRIVATE_ROUTES)
async def test_staging_routes_serve_loopback_but_not_what_a_local_proxy_forwards(proxy, method, path):
    explain = {"request": "GET /api/v1/metrics?api_key=pk_x"}
    assert (await proxy.request(method, path, json=explain)).status == 200
    forwarded = await proxy.request(method, path, json=explain, headers={"X-Forwarded-For": "203.0.113.7"})
    assert forwarded.status == 403


async def test_with_an_admin_token_anyone_with_it_is_served(aiohttp_client, contract, spec):
    token = "s3cret-admin-token-0123"
    proxy = await admin_proxy(aiohttp_client, contract, spec, "203.0.113.7", admin_token=token)
    assert (await proxy.get("/__proxy/usage")).status == 401
    assert (await proxy.get("/metrics", headers={"Authorization": "Bearer wrong-token-0000000"})).status == 401
    assert (await proxy.get("/__proxy/usage", headers={"Authorization": f"Bearer {token}"})).status == 200
    assert (await proxy.get("/metrics", headers={"Authorization": f"Bearer {token}"})).status == 200


async def test_probes_stay_public(aiohttp_client, contract, spec):
    proxy = await admin_proxy(aiohttp_client, contract, spec, "203.0.113.7")
    assert (await proxy.get("/healthz")).status == 200
    assert (await proxy.get("/readyz")).status == 200


# -- 5. compressed-body bombs --------------------------------------------------------


def bomb(inflated_mib: int) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)  # gzip framing
    block = bytes(1024 * 1024)
    return b"".join(compressor.compress(block) for _ in range(inflated_mib)) + compressor.flush()


async def test_a_gzip_bomb_is_cut_off_at_the_limit_and_its_connection_closed(make_proxy):
    proxy = await make_proxy(max_body_bytes=1024 * 1024)
    body = bomb(256)  # ~250 KB on the wire (within the limit), 256 MiB inflated
    assert len(body) < 1024 * 1024
    head = (
        f"POST /api/v2/lists?api_key={PRIVATE_KEY} HTTP/1.1\r\nHost: x\r\nContent-Encoding: gzip\r\n"
        f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    reader, writer = await asyncio.open_connection(proxy.host, proxy.port)
    started = time.perf_counter()
    writer.write(head + body)
    answer = await asyncio.wait_for(reader.read(65536), 5)
    status, payload = split(answer)
    assert status == 413 and json.loads(payload) == {"detail": "The request body is too large."}
    # The server stops reading: the connection ends at once instead of lingering while
    # the rest of the bomb is read and inflated.
    try:
        assert await asyncio.wait_for(reader.read(), 2) == b""
    except ConnectionResetError:
        pass  # closed with the rest of the bomb unread: the kernel says so with a reset
    assert time.perf_counter() - started < 2
    writer.close()
    probe = time.perf_counter()
    assert (await proxy.get("/healthz")).status == 200
    assert time.perf_counter() - probe < 0.5


async def test_a_compressed_body_within_the_limit_is_read_inflated(proxy, contract):
    response = await proxy.post(
        "/api/track", data=gzip.compress(f"data={TRACK}".encode()),
        headers={"Content-Encoding": "gzip", "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert await response.text() == "1" and len(contract.requests) == 1


# -- 8. no 500 on bad input ----------------------------------------------------------

TIMELINES = ["/api/v1/metrics/timeline", "/api/v1/metric/QqeQeh/timeline", "/api/v1/person/abc123/metrics/timeline"]


@pytest.mark.parametrize("since", ["1e309", "-inf", "Infinity", "1e30", "NaN", "-1", "253402300800"])
@pytest.mark.parametrize("path", TIMELINES)
async def test_impossible_since_values_get_a_legacy_400_before_any_upstream_call(proxy, contract, path, since):
    response = await proxy.get(path, params={"api_key": PRIVATE_KEY, "since": since})
    assert response.status == 400
    assert await response.json() == {"status": 400, "message": "Invalid value for since: must be a Unix timestamp or a next token."}
    assert contract.requests == []


async def test_the_largest_since_still_reaches_upstream(proxy, contract):
    response = await proxy.get(TIMELINES[0], params={"api_key": PRIVATE_KEY, "since": "253402300799", "sort": "asc"})
    assert response.status == 200 and len(contract.requests) == 1


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
@pytest.mark.parametrize(("path", "expected"), [("/api/track", (200, "0")), ("/api/v2/lists", (400, None))])
async def test_a_body_that_is_not_what_its_content_encoding_says(proxy, contract, encoding, path, expected, capsys):
    response = await proxy.post(
        path, params={"api_key": PRIVATE_KEY}, data=f"data={TRACK}&list_name=x".encode(),
        headers={"Content-Encoding": encoding, "Content-Type": "application/x-www-form-urlencoded"},
    )
    status, text = expected
    assert response.status == status
    if text is not None:
        assert await response.text() == text
    else:
        assert "Content-Encoding" in (await response.json())["detail"]
    assert contract.requests == []
    assert "internal_error" not in capsys.readouterr().out


# -- 10. a client that hangs up mid-body ---------------------------------------------


def counted(route: str, status: str) -> float:
    return REGISTRY.get_sample_value("klp_legacy_requests_total", {"route": route, "status": status}) or 0.0


@pytest.mark.parametrize("cancellation", [False, True], ids=["as run_app serves", "handler cancellation on"])
async def test_a_client_that_disconnects_mid_body_is_an_abort_not_a_server_error(contract, spec, capsys, cancellation):
    from proxy.app import create_app
    from proxy.config import Settings

    runner = web.AppRunner(create_app(Settings(), transport=contract, spec=spec), handler_cancellation=cancellation)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    route = "GET|POST /api/track"
    before_500, before_abort = counted(route, "500"), counted(route, "499")
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"POST /api/track HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                     b"Content-Length: 5000\r\n\r\ndata=")  # fmt: skip
        await writer.drain()
        await asyncio.sleep(0.2)
        writer.close()
        for _ in range(50):
            if counted(route, "499") > before_abort:
                break
            await asyncio.sleep(0.05)
    finally:
        await runner.cleanup()
    assert counted(route, "499") == before_abort + 1
    assert counted(route, "500") == before_500
    logged = capsys.readouterr().out
    assert '"event":"client_abort"' in logged and "internal_error" not in logged
    assert contract.requests == []


# -- 12. /__sandbox/faults ------------------------------------------------------------


async def test_sandbox_faults_switch_reaches_the_proxy_under_serve_sandbox(aiohttp_client, unused_tcp_port):
    from proxy.cli import _with_sandbox
    from proxy.config import Settings

    proxy = await aiohttp_client(_with_sandbox(Settings(retry_budget=0.0, rate_governor=False), unused_tcp_port))
    faults_url = f"http://127.0.0.1:{unused_tcp_port}/__sandbox/faults"
    async with aiohttp.ClientSession() as session:
        async with session.post(faults_url, json={"throttles": 1, "retry_after": 3}) as changed:
            assert changed.status == 200 and (await changed.json())["throttles"] == 1.0
        throttled = await proxy.get("/api/v1/metrics", params={"api_key": PRIVATE_KEY})
        assert throttled.status == 429 and throttled.headers["Retry-After"] == "3"
        async with session.get(f"http://127.0.0.1:{unused_tcp_port}/api/metrics",
                               headers={"Authorization": f"Klaviyo-API-Key {PRIVATE_KEY}", "revision": "2026-07-15"}) as direct:
            assert direct.status == 429  # the sandbox's own HTTP face sees the same faults
        async with session.post(faults_url, json={"throttles": 2}) as refused:
            assert refused.status == 400 and "between 0 and 1" in (await refused.json())["error"]
        async with session.post(faults_url, json={"lightning": 1}) as unknown:
            assert unknown.status == 400
        async with session.delete(faults_url) as cleared:
            assert (await cleared.json())["throttles"] == 0.0
        assert (await proxy.get("/api/v1/metrics", params={"api_key": PRIVATE_KEY})).status == 200


def raw_deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush()


BODY = b'{"list_name": "Compressed"}'
ENCODED = {
    "gzip": ("gzip", gzip.compress(BODY), 200),
    "zlib deflate": ("deflate", zlib.compress(BODY), 200),
    "raw deflate": ("deflate", raw_deflate(BODY), 200),
    "gzip, identity": ("gzip, identity", gzip.compress(BODY), 200),
    "gzip cut short": ("gzip", gzip.compress(BODY)[:-9], 400),
    "gzip with trailing bytes": ("gzip", gzip.compress(BODY) + b"tail", 400),
    "brotli": ("br", BODY, 415),
    "two codings": ("gzip, gzip", gzip.compress(gzip.compress(BODY)), 415),
}


@pytest.mark.parametrize("case", ENCODED, ids=list(ENCODED))
async def test_compressed_bodies_are_inflated_by_the_proxy_strictly(proxy, contract, case):
    encoding, body, status = ENCODED[case]
    response = await proxy.post(
        "/api/v2/lists", params={"api_key": PRIVATE_KEY}, data=body,
        headers={"Content-Encoding": encoding, "Content-Type": "application/json"},
    )
    assert response.status == status, await response.text()
    if status == 200:
        assert "list_id" in await response.json()
    else:
        assert set(await response.json()) == {"detail"} and contract.requests == []
