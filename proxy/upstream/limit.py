"""At most N upstream calls on the wire at once.

It sits innermost in the stack, so a request waiting for rate budget or backing off
before a retry holds no slot another account could use. The network's pool holds the
same number of connections, but its wait would count as the call's own time (its
latency metric, its request timeout): here a call waits before it is on its way.
"""

from __future__ import annotations

from proxy.newapi.messages import UpstreamRequest, UpstreamResponse
from proxy.newapi.transport import Transport
from proxy.upstream.slots import Slots


class ConcurrencyLimit:
    def __init__(self, inner: Transport, limit: int):
        self._inner = inner
        self._slots = Slots(limit)

    async def send(self, request: UpstreamRequest) -> UpstreamResponse:
        if not self._slots.take_now():  # (a free slot is taken without a coroutine)
            await self._slots.take()
        try:
            return await self._inner.send(request)
        finally:
            self._slots.give_back()

    async def aclose(self) -> None:
        await self._inner.aclose()
