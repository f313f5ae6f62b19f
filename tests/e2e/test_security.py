"""Hostile input never changes the upstream path or host, and never gets a 500."""

import asyncio
import socket

import aiohttp
import pytest

from proxy.app import create_app
from proxy.config import Settings
from proxy.sandbox.seed import DEMO_PRIVATE_KEY as PRIVATE_KEY

HOSTILE_IDS = [
    "..", "%2e%2e", "%2E%2E%2Fprofiles", "a%2F..%2Fmetrics", "abc%3Fpage%5Bsize%5D%3D1", "abc%23x",
    "x%0d%0aHost:%20evil.example", "%EF%BC%A1%EF%BC%A2%EF%BC%A3",  # fullwidth ＡＢＣ
    "a%E2%88%95b",  # U+2215 division slash
    "a%22)%2Cequals(metric_id%2C%22b",  # tries to close the filter string
    "x" * 65,
]  # fmt: skip


@pytest.mark.parametrize("raw_id", HOSTILE_IDS)
async def test_hostile_path_ids_never_reach_upstream(proxy, contract, raw_id):
    async with aiohttp.ClientSession() as session:
        url = f"http://{proxy.host}:{proxy.port}/api/v1/metric/{raw_id}/timeline?api_key={PRIVATE_KEY}"
        async with session.get(aiohttp.client.URL(url, encoded=True)) as response:
            assert response.status == 404
            assert (await response.json())["status"] == 404
    assert contract.requests == []


@pytest.mark.parametrize("key", ["pk_x%0d%0aX-Injected:%201", "pk_x%20y", "pk_%E2%80%8Bzero"])
async def test_keys_that_could_inject_headers_are_refused(proxy, contract, key):
    async with aiohttp.ClientSession() as session:
        url = f"http://{proxy.host}:{proxy.port}/api/v1/metrics?api_key={key}"
        async with session.get(aiohttp.client.URL(url, encoded=True)) as response:
            assert response.status == 403
    assert contract.requests == []


async def test_a_token_that_could_inject_is_answered_zero(proxy, contract):
    response = await proxy.post("/api/track", data={"data": '{"token": "Demo\\r\\nPk", "event": "E", "customer_properties": {"$email": "a@b.c"}}'})
    assert await response.text() == "0"
    assert contract.requests == []


async def test_slow_bodies_time_out(make_proxy):
    proxy = await make_proxy(body_timeout=0.2)
    reader, writer = await asyncio.open_connection(proxy.host, proxy.port)
    writer.write(b"POST /api/track HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 500\r\n\r\ndata=")
    await writer.drain()
    response = await asyncio.wait_for(reader.read(4096), 5)
    writer.close()
    assert response.startswith(b"HTTP/1.1 200") and response.endswith(b"\r\n\r\n0")  # track's error dialect
    reader, writer = await asyncio.open_connection(proxy.host, proxy.port)
    writer.write(b"GET /api/v1/metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\napi_key=")
    await writer.drain()
    response = await asyncio.wait_for(reader.read(4096), 5)
    writer.close()
    assert response.startswith(b"HTTP/1.1 408")
    assert response.endswith(b'{"status":408,"message":"The request body did not arrive in time."}')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_admin_routes_on_their_own_port(aiohttp_server, contract):
    admin_port = free_port()
    server = await aiohttp_server(create_app(Settings(admin_port=admin_port), transport=contract))
    async with aiohttp.ClientSession() as session:
        async with session.get(f"http://127.0.0.1:{server.port}/__proxy/usage") as main:
            assert main.status == 404
        async with session.get(f"http://127.0.0.1:{server.port}/api/v1/metrics", params={"api_key": PRIVATE_KEY}) as legacy:
            assert legacy.status == 200
        async with session.get(f"http://127.0.0.1:{admin_port}/__proxy/usage") as admin:
            assert admin.status == 200
            routes = {item["route"]: item["calls"] for item in (await admin.json())["routes"]}
            assert routes["GET /api/v1/metrics"] == 1
