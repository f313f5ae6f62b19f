"""At most N holders at once, first come first served: what an `asyncio.Semaphore` does,
with the uncontended take a plain call instead of three coroutines (every upstream call
takes two: the stack's concurrency limit and the pool's connection slot).

A slot given up goes straight to the oldest waiter, so a newcomer never jumps the queue;
a waiter that gives up (cancelled, timed out) after it was handed one passes it on.
"""

from __future__ import annotations

import asyncio
from collections import deque


class Slots:
    def __init__(self, limit: int) -> None:
        self._free = limit  # slots nobody holds
        self._waiters: deque[asyncio.Future[None]] = deque()  # for a slot, oldest first

    def free(self) -> bool:
        """Whether `take_now` would succeed."""
        return bool(self._free) and not self._waiters

    def take_now(self) -> bool:
        """Take a slot if one is free and nobody waits for one."""
        if self._free and not self._waiters:
            self._free -= 1
            return True
        return False

    async def take(self, deadline: float | None = None) -> None:
        """A slot, waiting in line for one if need be (until `deadline`, loop time: then
        TimeoutError)."""
        if self.take_now():
            return
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            if deadline is None:
                await waiter
            else:
                async with asyncio.timeout_at(deadline):
                    await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled():  # handed a slot, but leaving: pass it on
                self.give_back()
            elif waiter in self._waiters:
                self._waiters.remove(waiter)
            raise

    def give_back(self) -> None:
        """A slot is given up: straight to the oldest waiter, or back to the free ones."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
        self._free += 1
