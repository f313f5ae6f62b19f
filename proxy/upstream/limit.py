"""At most N upstream calls on the wire at once.

It sits innermost in the stack, so a request waiting for rate budget or backing off
before a retry holds no slot another account could use.
"""

from __future__ import annotations

import asyncio

from proxy.newapi.messages import UpstreamRequest, UpstreamResponse
from proxy.newapi.transport import Transport


class ConcurrencyLimit:
    def __init__(self, inner: Transport, limit: int):
        self._inner = inner
        self._slots = asyncio.Semaphore(limit)

    async def send(self, request: UpstreamRequest) -> UpstreamResponse:
        async with self._slots:
            return await self._inner.send(request)

    async def aclose(self) -> None:
        await self._inner.aclose()
