"""State a later request relies on (legacy markers, what a group id names), behind the
smallest interface a shared store (Redis, a file every worker shares) can implement:
text values under string keys, each kept for a time-to-live.

The engine hands each request the store it was built with (`Context.state`); nothing
reaches it through a global, so a dry run (explain) works on its own store and cannot
teach or spend the real one.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Callable, Protocol

CAPACITY = 10_000


class StateStore(Protocol):
    async def get(self, key: str) -> str | None:
        """The value, or None when it was never put or its time-to-live ran out."""

    async def put(self, key: str, value: str, ttl: float) -> None:
        """Keep `value` under `key` for `ttl` seconds."""


class MemoryState:
    """One process's store: bounded, the least recently used keys go first, and nothing
    survives a restart (a marker from before one is refused like an unknown one)."""

    def __init__(self, capacity: int = CAPACITY, clock: Callable[[], float] = time.monotonic) -> None:
        self._capacity = capacity
        self._clock = clock
        self._entries: OrderedDict[str, tuple[str, float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    async def get(self, key: str) -> str | None:
        found = self._entries.get(key)
        if found is None:
            return None
        value, expires = found
        if self._clock() >= expires:
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return value

    async def put(self, key: str, value: str, ttl: float) -> None:
        self._entries[key] = (value, self._clock() + ttl)
        self._entries.move_to_end(key)
        while len(self._entries) > self._capacity:
            self._entries.popitem(last=False)
