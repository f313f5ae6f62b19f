"""Test doubles for the production write path (a module of its own, not conftest, so
test files can import them whichever conftest Python found first): a clock the test
moves, and scripted and recording transports."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from proxy.newapi.messages import UpstreamRequest, UpstreamResponse
from proxy.newapi.transport import Transport
from proxy.staging.usage import MemoryUsage
from proxy.state.memory import MemoryValues
from proxy.state.store import State
from proxy.upstream.budget import LocalBudget

# The start of a UTC day, so 1 s, 60 s and 24 h windows all begin here.
MIDNIGHT = 1_700_006_400.0


@dataclass
class FakeTime:
    now: float = MIDNIGHT
    slept: list[float] = field(default_factory=list)

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@dataclass
class Scripted:
    """Answers calls with the given outcomes in turn (an exception is raised), then the last one forever."""

    outcomes: list[UpstreamResponse | Exception]
    requests: list[UpstreamRequest] = field(default_factory=list)

    async def send(self, request: UpstreamRequest) -> UpstreamResponse:
        self.requests.append(request)
        outcome = self.outcomes.pop(0) if len(self.outcomes) > 1 else self.outcomes[0]
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    async def aclose(self) -> None:
        """Nothing to release."""


@dataclass
class Recording:
    """Passes calls through and keeps each request with the status upstream answered."""

    inner: Transport
    exchanges: list[tuple[UpstreamRequest, int]] = field(default_factory=list)

    async def send(self, request: UpstreamRequest) -> UpstreamResponse:
        response = await self.inner.send(request)
        self.exchanges.append((request, response.status))
        return response

    def statuses(self) -> list[int]:
        return [status for _, status in self.exchanges]

    def paths(self) -> list[str]:
        return [request.path for request, _ in self.exchanges]

    async def aclose(self) -> None:
        await self.inner.aclose()


def answers(*statuses: int, headers: dict[str, str] | None = None) -> Iterable[UpstreamResponse]:
    return [UpstreamResponse(status, dict(headers or {}), b"") for status in statuses]


def forgetful_state() -> State:
    """A state store that keeps no value: every legacy page read walks upstream again,
    so a test of the governor or the metrics sees one upstream call per legacy request."""
    return State(MemoryValues(max_entries=0), LocalBudget(), MemoryUsage(), "process memory")
