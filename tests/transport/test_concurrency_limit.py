"""The stack's concurrency limit: at most N calls on their way, the others served in the
order they came, and no slot lost to a caller that gives up."""

import asyncio

from proxy.newapi.messages import UpstreamRequest, UpstreamResponse
from proxy.upstream.limit import ConcurrencyLimit

REQUEST = UpstreamRequest("GET", "/api/metrics")


class Gated:
    """Holds every call until the test lets it go; remembers the order calls arrived in."""

    def __init__(self) -> None:
        self.arrived: list[int] = []
        self.gates: list[asyncio.Future[None]] = []

    async def send(self, request: UpstreamRequest) -> UpstreamResponse:
        self.arrived.append(int(request.path.rsplit("/", 1)[1]))
        gate = asyncio.get_running_loop().create_future()
        self.gates.append(gate)
        await gate
        return UpstreamResponse(200)

    async def aclose(self) -> None:
        pass


def numbered(n: int) -> UpstreamRequest:
    return UpstreamRequest("GET", f"/api/metrics/{n}")


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_at_most_the_limit_are_on_their_way_and_the_rest_go_in_order():
    network = Gated()
    limit = ConcurrencyLimit(network, 2)
    calls = [asyncio.ensure_future(limit.send(numbered(n))) for n in range(5)]
    await settle()
    assert network.arrived == [0, 1]
    network.gates[0].set_result(None)
    await settle()
    assert network.arrived == [0, 1, 2]
    late = asyncio.ensure_future(limit.send(numbered(9)))  # a newcomer queues behind 3 and 4
    for gate in network.gates[1:3]:
        gate.set_result(None)
    await settle()
    assert network.arrived == [0, 1, 2, 3, 4]
    for gate in network.gates[3:]:
        gate.set_result(None)
    await settle()
    network.gates[5].set_result(None)
    assert [(await call).status for call in [*calls, late]] == [200] * 6
    assert network.arrived == [0, 1, 2, 3, 4, 9]


async def test_a_caller_that_gives_up_keeps_no_slot():
    network = Gated()
    limit = ConcurrencyLimit(network, 1)
    first = asyncio.ensure_future(limit.send(numbered(0)))
    waiting = asyncio.ensure_future(limit.send(numbered(1)))
    await settle()
    network.gates[0].set_result(None)  # frees the slot for `waiting`...
    waiting.cancel()  # ...which gives up before it runs: the slot passes on
    await first
    after = asyncio.ensure_future(limit.send(numbered(2)))
    await settle()
    assert network.arrived == [0, 2]
    network.gates[1].set_result(None)
    assert (await after).status == 200
    cancelled_on_its_way = asyncio.ensure_future(limit.send(numbered(3)))
    await settle()
    cancelled_on_its_way.cancel()  # its slot comes back too
    await asyncio.gather(cancelled_on_its_way, return_exceptions=True)
    last = asyncio.ensure_future(limit.send(numbered(4)))
    await settle()
    assert network.arrived == [0, 2, 3, 4]
    network.gates[-1].set_result(None)
    assert (await last).status == 200
