"""The proxy and the sandbox as real servers on loopback, for clients that block.

schemathesis and hypothesis drive synchronous clients, so both servers run on an event
loop in a background thread. The proxy reaches the sandbox over HTTP through its own
network transport (the production path, `Settings.upstream`), and every request that
arrives at the sandbox is recorded off the wire (Host, raw path) and held against the
official spec by a `ContractTransport` before the sandbox answers it.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Any, Self

from aiohttp import web

from proxy.app import create_app
from proxy.config import Settings
from proxy.newapi.messages import UpstreamRequest, UpstreamResponse
from proxy.openapi.contract import ContractTransport
from proxy.openapi.spec import Spec
from proxy.sandbox import SandboxTransport, build_app, demo_sandbox

# Rate limits and retries are tested elsewhere (tests/production); here they would only
# turn generated bursts into waits.
FUZZ_SETTINGS = Settings(rate_governor=False, retry_budget=0.0, request_timeout=5.0)
START_TIMEOUT = 10.0


@dataclass(frozen=True, slots=True)
class Arrival:
    """One upstream request as the sandbox received it off the wire, and its answer."""

    host: str
    method: str
    raw_path: str  # still percent-encoded, without the query string
    status: int


@dataclass
class CheckedSandbox:
    """What `build_app` serves: the demo sandbox behind the contract check."""

    contract: ContractTransport

    async def handle(self, request: UpstreamRequest) -> UpstreamResponse:
        return await self.contract.send(request)


@dataclass(repr=False)  # hypothesis prints the test's arguments; the records grow large
class LiveStack:
    spec: Spec
    beta_spec: Spec | None
    arrivals: list[Arrival] = field(default_factory=list)
    contract: ContractTransport = field(init=False)
    proxy_url: str = field(init=False)
    sandbox_url: str = field(init=False)
    _loop: asyncio.AbstractEventLoop = field(init=False)
    _thread: threading.Thread = field(init=False)
    _runners: list[web.AppRunner] = field(default_factory=list)

    def __enter__(self) -> Self:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="live-stack", daemon=True)
        self._thread.start()
        self._run(self._start())
        return self

    def __exit__(self, *_exc: object) -> None:
        try:
            self._run(self._stop())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(START_TIMEOUT)
            self._loop.close()

    def mark(self) -> tuple[int, int]:
        """Where the records stand now; `since` gives what came after."""
        return len(self.arrivals), len(self.contract.violations)

    def since(self, mark: tuple[int, int]) -> tuple[list[Arrival], list[str]]:
        return self.arrivals[mark[0] :], self.contract.violations[mark[1] :]

    def _run(self, coroutine: Awaitable[Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(START_TIMEOUT)

    async def _start(self) -> None:
        self.contract = ContractTransport(SandboxTransport(demo_sandbox(rate_limits=False)), self.spec, self.beta_spec)
        sandbox_app = build_app(CheckedSandbox(self.contract))  # type: ignore[arg-type]  # duck-typed Sandbox
        sandbox_app.middlewares.append(self._tap)
        self.sandbox_url = await self._serve(sandbox_app)
        self.proxy_url = await self._serve(create_app(replace(FUZZ_SETTINGS, upstream=self.sandbox_url)))

    async def _serve(self, app: web.Application) -> str:
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        self._runners.append(runner)
        host, port = runner.addresses[0][:2]
        return f"http://{host}:{port}"

    async def _stop(self) -> None:
        for runner in reversed(self._runners):
            await runner.cleanup()

    @web.middleware
    async def _tap(self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
        status = 500  # what aiohttp answers when the handler raises
        try:
            response = await handler(request)
            status = response.status
            return response
        finally:
            self.arrivals.append(Arrival(request.host, request.method, request.raw_path.split("?", 1)[0], status))
