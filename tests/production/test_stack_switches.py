import asyncio

from proxy.config import Settings
from proxy.newapi.errors import UpstreamThrottled
from proxy.newapi.messages import UpstreamRequest, UpstreamResponse
from proxy.upstream.budget import LocalBudget
from proxy.upstream.stack import build_stack

METRICS = UpstreamRequest("GET", "/api/metrics", (), {"Authorization": "Klaviyo-API-Key pk_one", "revision": "2026-07-15"})


class Counting:
    def __init__(self) -> None:
        self.sent = 0
        self.in_flight = 0
        self.most_in_flight = 0

    async def send(self, request: UpstreamRequest) -> UpstreamResponse:
        self.sent += 1
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        await asyncio.sleep(0.01)
        self.in_flight -= 1
        return UpstreamResponse(200, {}, b"{}")

    async def aclose(self) -> None:
        pass


async def outcomes(settings: Settings, network: Counting, calls: int) -> list[str]:
    stack = build_stack(network, settings, LocalBudget())

    async def one() -> str:
        try:
            return str((await stack.transport.send(METRICS)).status)
        except UpstreamThrottled:
            return "throttled"

    return await asyncio.gather(*(one() for _ in range(calls)))


async def test_the_governor_keeps_an_operation_to_its_burst_tier():
    network = Counting()
    results = await outcomes(Settings(governor_max_wait=0, retry_budget=0), network, 30)
    assert results.count("200") == network.sent == 10  # get_metrics: 10/s
    assert results.count("throttled") == 20


async def test_without_the_governor_everything_goes_through_within_the_concurrency_limit():
    network = Counting()
    results = await outcomes(Settings(rate_governor=False, upstream_concurrency=4), network, 30)
    assert results == ["200"] * 30
    assert network.most_in_flight == 4
