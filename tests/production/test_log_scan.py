"""Every malformed-request probe of issue 16 against a real `klaviyo-legacy-proxy serve`
process at debug level, then every line it wrote: each log line is one JSON object, and
no line holds a key, a token, an email address or a phone number. aiohttp's own server,
access and client loggers, asyncio and Python warnings all write through the proxy's
pipeline, so this covers them as they run in production."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import zlib

import aiohttp
from processes import ROOT, free_port, healthy

from proxy.sandbox.seed import DEMO_PRIVATE_KEY, DEMO_PUBLIC_KEY

EMAIL, PHONE = "grace.hopper@example.com", "+14155550199"
SECRETS = [DEMO_PRIVATE_KEY, DEMO_PUBLIC_KEY, EMAIL, PHONE, "grace.hopper%40example.com", "%2B14155550199"]
PII = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+\.[A-Za-z]{2,}|\+1\d{10}\b|pk_[A-Za-z0-9]{20,}")
BANNERS = ("klaviyo-legacy-proxy on http://", "sandbox (new API) on http://")  # the CLI's start-up lines, not logs


def track_form(**extra) -> bytes:
    payload = {"token": DEMO_PUBLIC_KEY, "event": "Scanned", "customer_properties": {"$email": EMAIL, "$phone_number": PHONE}, **extra}
    return b"data=" + json.dumps(payload).encode()


def raw_probes() -> list[bytes]:
    key, form = DEMO_PRIVATE_KEY, track_form()
    bomb = zlib.compressobj(9, zlib.DEFLATED, 31)
    inflating = b"".join(bomb.compress(bytes(1 << 20)) for _ in range(64)) + bomb.flush()
    return [
        f"GET /api/v1/metrics?api_key={key}&email={EMAIL}&pad={'x' * 9000} HTTP/1.1\r\nHost: x\r\n\r\n".encode(),
        f"GET /api/v1/metrics?api_key={key}&email={EMAIL}&n=".encode() + b"\xc3\xa9 HTTP/1.1\r\nHost: x\r\n\r\n",
        f"GET /api/v1/metrics?api_key={key} HTTP/1.1\r\nHost: x\r\nX-Phone: {PHONE}\x01{EMAIL}\r\n\r\n".encode(),
        f"GET /api/v1/metrics HTTP/1.1\r\nHost: x\r\napi-key: {key}\x00\r\n\r\n".encode(),
        f"POST /api/track?email={EMAIL} HTTP/1.1\r\nHost: x\r\nContent-Encoding: gzip\r\n"
        f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(form)}\r\n\r\n".encode() + form,
        f"POST /api/v2/lists?api_key={key} HTTP/1.1\r\nHost: x\r\nContent-Encoding: deflate\r\n"
        f"Content-Length: {len(form)}\r\n\r\n".encode() + form,
        f"POST /api/v2/lists?api_key={key} HTTP/1.1\r\nHost: x\r\nContent-Encoding: gzip\r\n"
        f"Content-Length: {len(inflating)}\r\n\r\n".encode() + inflating,
        f"POST /api/track HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{form.decode()}\r\n".encode(),
    ]


async def send_raw(port: int, raw: bytes, *, hang_up: bool = False) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(raw)
    try:
        await writer.drain()
        if not hang_up:
            await asyncio.wait_for(reader.read(65536), 5)
    except (ConnectionError, TimeoutError):
        pass
    writer.close()


async def probe(port: int) -> None:
    base = f"http://127.0.0.1:{port}"
    for raw in raw_probes():
        await send_raw(port, raw)
    partial = f"POST /api/track?email={EMAIL} HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n".encode() + track_form()[:40]
    await send_raw(port, partial, hang_up=True)  # a client that leaves mid-body
    async with aiohttp.ClientSession() as session:
        for since in ("1e309", "-inf", "Infinity", "1e30", "NaN"):
            async with session.get(f"{base}/api/v1/metrics/timeline", params={"api_key": DEMO_PRIVATE_KEY, "since": since}) as reply:
                assert reply.status == 400
        for path, params, headers in [
            ("/api/profiles", {}, {"Authorization": "Klaviyo-API-Key pk_notallowed00000000000000000000000"}),
            ("/client/events", {"company_id": "XyZ123", "email": EMAIL}, {}),
        ]:
            async with session.post(base + path, params=params, headers={"revision": "2026-07-15", **headers}, data=b"{}") as reply:
                assert reply.status == 403
        async with session.post(f"{base}/api/track", data=track_form(properties={"note": "x" * 200_000})) as reply:
            assert await reply.text() == "0"  # the spool refuses what upstream would
        async with session.post(f"{base}/api/identify", data={"data": json.dumps({"token": DEMO_PUBLIC_KEY, "properties": {"$email": EMAIL}})}) as reply:
            assert await reply.text() == "1"
        async with session.get(f"{base}/__proxy/usage", headers={"X-Forwarded-For": "203.0.113.9"}) as reply:
            assert reply.status == 403
        async with session.get(f"{base}/api/v1/person/{'a' * 70}", params={"api_key": DEMO_PRIVATE_KEY, "email": EMAIL}) as reply:
            assert reply.status == 404


async def test_every_log_line_of_a_hostile_session_is_json_and_secret_free(tmp_path):
    port, sandbox_port = free_port(), free_port()
    environment = {
        **os.environ, "PYTHONPATH": str(ROOT), "KLP_SANDBOX": "true", "KLP_LOG_LEVEL": "debug",
        "KLP_DELIVERY": "spool", "KLP_SPOOL_PATH": str(tmp_path / "spool.sqlite3"), "KLP_SPOOL_LINGER": "0",
        "KLP_ALLOWED_KEYS": f"{DEMO_PRIVATE_KEY},{DEMO_PUBLIC_KEY}", "KLP_MAX_BODY_BYTES": str(1 << 20),
        "PYTHONWARNINGS": "always", "PYTHONASYNCIODEBUG": "1",
    }  # fmt: skip
    log = tmp_path / "serve.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "proxy.cli", "serve", "--port", str(port), "--sandbox-port", str(sandbox_port)],
            cwd=ROOT, env=environment, stdout=output, stderr=subprocess.STDOUT,
        )
        try:
            async with aiohttp.ClientSession() as session:
                await healthy(session, f"http://127.0.0.1:{port}")
            await probe(port)
            await asyncio.sleep(1.0)  # the spooled identify is delivered, through the access log of the sandbox
        finally:
            process.send_signal(signal.SIGTERM)
            assert process.wait(30) == 0
    lines = [line for line in log.read_text(encoding="utf-8", errors="replace").splitlines() if line.strip()]
    records = [line for line in lines if not line.startswith(BANNERS)]
    assert len(records) > 20, lines
    for line in records:
        parsed = json.loads(line)  # every log line is one JSON object
        assert isinstance(parsed, dict) and "event" in parsed, line
    for line in lines:
        assert not any(secret in line for secret in SECRETS), line
        assert not PII.search(line), line
    events = {json.loads(line)["event"] for line in records}
    assert {"malformed_request", "client_abort", "spool_refused", "legacy_request"} <= events, events
    assert any(json.loads(line).get("logger", "").startswith("aiohttp") for line in records)
