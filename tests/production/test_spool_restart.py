"""Done-when: the upstream goes away in the middle of a track burst, the proxy process
is restarted during the outage, the upstream comes back — and every accepted event
arrives exactly once. The proxy runs as real processes; the sandbox is served over HTTP
by the test and keeps its state while it is down."""

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from proxy.sandbox.app import build_app
from proxy.sandbox.seed import DEMO_PRIVATE_KEY, DEMO_PUBLIC_KEY, demo_sandbox
from proxy.spool.sqlite import SQLiteSpool

ROOT = Path(__file__).resolve().parents[2]
MARK = "restart-run"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Upstream:
    """The sandbox over HTTP on a fixed port, stopped and started at will."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.sandbox = demo_sandbox()
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        self._runner = web.AppRunner(build_app(self.sandbox), access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        await self._runner.cleanup()

    def numbers(self) -> list[int]:
        (account,) = self.sandbox.accounts
        return [e.event_properties["n"] for e in account.events if e.event_properties.get("run") == MARK]


class ProxyProcess:
    def __init__(self, port: int, environment: dict[str, str], log: Path) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self._log = log.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "proxy.cli", "serve", "--port", str(port)],
            cwd=ROOT, env=environment, stdout=self._log, stderr=subprocess.STDOUT,
        )

    async def ready(self, session: aiohttp.ClientSession) -> None:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                async with session.get(f"{self.url}/healthz") as reply:
                    if reply.status == 200:
                        return
            except aiohttp.ClientError:
                await asyncio.sleep(0.1)
        raise AssertionError("the proxy did not start")

    def terminate(self, seconds: float = 15) -> int:
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(seconds)
        self._log.close()
        return code


async def track(session: aiohttp.ClientSession, proxy: ProxyProcess, numbers: range) -> list[str]:
    async def one(n: int) -> str:
        payload = {"token": DEMO_PUBLIC_KEY, "event": "Restart", "customer_properties": {"$email": f"r{n % 9}@example.com"},
                   "properties": {"n": n, "run": MARK}}
        async with session.post(f"{proxy.url}/api/track", data={"data": json.dumps(payload)}) as reply:
            return await reply.text()

    return await asyncio.gather(*(one(n) for n in numbers))


@pytest.fixture
def environment(tmp_path):
    upstream_port = free_port()
    return upstream_port, {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "KLP_UPSTREAM": f"http://127.0.0.1:{upstream_port}",
        "KLP_PRIVATE_KEY": DEMO_PRIVATE_KEY,
        "KLP_DELIVERY": "spool",
        "KLP_SPOOL_PATH": str(tmp_path / "spool.sqlite3"),
        "KLP_SPOOL_LINGER": "0.2",
        "KLP_SPOOL_MAX_BACKOFF": "0.5",
        "KLP_SPOOL_DRAIN_TIMEOUT": "2",
        "KLP_RETRY_BUDGET": "0.5",
        "KLP_LOG_LEVEL": "warning",
        "KLP_ADMIN": "false",
    }


async def test_accepted_events_survive_an_outage_and_a_restart(environment, tmp_path):
    upstream_port, env = environment
    upstream = Upstream(upstream_port)
    await upstream.start()
    log = tmp_path / "proxy.log"
    async with aiohttp.ClientSession() as session:
        first = ProxyProcess(free_port(), env, log)
        await first.ready(session)
        answers = await track(session, first, range(0, 300))
        await upstream.stop()  # mid-burst: some of those are still on their way
        answers += await track(session, first, range(300, 600))
        assert first.terminate() == 0  # restarted during the outage

        second = ProxyProcess(free_port(), env, log)
        await second.ready(session)
        answers += await track(session, second, range(600, 900))
        await asyncio.sleep(0.5)
        waiting = await pending(env)
        assert waiting >= 600 and len(upstream.numbers()) + waiting >= 900  # held on disk, not lost
        await upstream.start()

        deadline = time.monotonic() + 20
        while len(upstream.numbers()) < 900 and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        assert second.terminate() == 0
    await upstream.stop()
    assert answers == ["1"] * 900, log.read_text()[-2000:]
    assert sorted(upstream.numbers()) == list(range(900)), log.read_text()[-2000:]  # each exactly once
    assert await pending(env) == 0


async def pending(env: dict[str, str]) -> int:
    spool = await SQLiteSpool.open(Path(env["KLP_SPOOL_PATH"]), exclusive=False)
    status = await spool.status(time.time())
    await spool.close()
    assert status.dead == 0
    return status.pending
