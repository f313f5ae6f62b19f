"""Real processes for the multi-process tests: the sandbox served over HTTP by the test
(stopped and started at will, keeping its state), and proxies run as `klaviyo-legacy-proxy
serve` subprocesses."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
from aiohttp import web

from proxy.newapi.messages import UpstreamRequest, UpstreamResponse
from proxy.sandbox.app import build_app
from proxy.sandbox.seed import DEMO_PUBLIC_KEY, demo_sandbox

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Upstream:
    """The demo sandbox over HTTP on a fixed port; it records what arrived and what it
    answered, and when. `hold` keeps requests of an operation unanswered until `release`:
    a test that needs a call in flight waits for it to arrive, not for a delay to pass."""

    def __init__(self, port: int, delay: float = 0.0) -> None:
        self.port = port
        self.sandbox = demo_sandbox()
        self.received: list[tuple[float, str]] = []  # (time, "METHOD path"), as each request arrives
        self.answered: list[tuple[float, str, int]] = []  # (time, "METHOD path", status)
        self._delay = delay
        self._held: set[str] = set()
        self._released = asyncio.Event()
        self._handle = self.sandbox.handle
        self.sandbox.handle = self._recorded  # type: ignore[method-assign]
        self._runner: web.AppRunner | None = None

    def hold(self, operation: str) -> None:
        self._held.add(operation)
        self._released.clear()

    def release(self) -> None:
        self._held.clear()
        self._released.set()

    def arrivals(self, operation: str, since: float = 0.0) -> list[float]:
        return [moment for moment, arrived in self.received if arrived == operation and moment >= since]

    async def _recorded(self, request: UpstreamRequest) -> UpstreamResponse:
        operation = f"{request.method} {request.path}"
        self.received.append((time.time(), operation))
        if operation in self._held:
            await self._released.wait()
        await asyncio.sleep(self._delay)
        response = await self._handle(request)
        self.answered.append((time.time(), operation, response.status))
        return response

    async def start(self) -> None:
        self._runner = web.AppRunner(build_app(self.sandbox), access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        await self._runner.cleanup()

    def numbers(self, mark: str) -> list[int]:
        (account,) = self.sandbox.accounts
        account.jobs.run_due(self.sandbox.clock())  # what any read would do first: accepted jobs run
        return [e.event_properties["n"] for e in account.events if e.event_properties.get("run") == mark]


async def healthy(session: aiohttp.ClientSession, url: str, seconds: float = 60) -> None:
    """Wait until a served proxy answers `/healthz` (start-up loads the spec: slow on a busy CI machine)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            async with session.get(f"{url}/healthz") as reply:
                if reply.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.1)
    raise AssertionError("the proxy did not start")


class ProxyProcess:
    # Started and not yet ended: a test that fails half-way must not leave a server behind.
    running: set[ProxyProcess] = set()

    def __init__(self, environment: dict[str, str], log: Path) -> None:
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self._log = log.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "proxy.cli", "serve", "--port", str(port)],
            cwd=ROOT, env=environment, stdout=self._log, stderr=subprocess.STDOUT,
        )
        ProxyProcess.running.add(self)

    async def ready(self, session: aiohttp.ClientSession) -> None:
        await healthy(session, self.url)

    def terminate(self, seconds: float = 15) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self._ended(seconds)

    def kill(self) -> int:
        self.process.kill()
        return self._ended(5)

    def _ended(self, seconds: float) -> int:
        code = self.process.wait(seconds)
        self._log.close()
        ProxyProcess.running.discard(self)
        return code

    @classmethod
    def end_strays(cls) -> None:
        for stray in list(cls.running):
            stray.kill()


async def track(session: aiohttp.ClientSession, proxy: ProxyProcess, numbers: range, mark: str) -> list[str]:
    async def one(n: int) -> str:
        payload = {"token": DEMO_PUBLIC_KEY, "event": "Spooled", "customer_properties": {"$email": f"r{n % 9}@example.com"},
                   "properties": {"n": n, "run": mark}}
        async with session.post(f"{proxy.url}/api/track", data={"data": json.dumps(payload)}) as reply:
            return await reply.text()

    return await asyncio.gather(*(one(n) for n in numbers))


async def wait_until(condition, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        await asyncio.sleep(0.1)


async def early_in_a_second(margin: float = 0.02) -> float:
    """Sleep until just after the clock turns a second (Klaviyo's burst windows are aligned
    to the epoch); the time then."""
    await asyncio.sleep(1 - time.time() % 1 + margin)
    return time.time()
