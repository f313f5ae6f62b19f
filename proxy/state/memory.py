"""State in this process only: for tests, `explain` (a dry run must never teach the real
store) and a single process run without a state file. Bounded, least recently used first,
by entries and by the bytes they really take (`proxy.state.kept`)."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Sequence

from proxy import metrics
from proxy.state.kept import compact, footprint

MAX_ENTRIES = 20_000
MAX_BYTES = 64 * 1024 * 1024


class MemoryValues:
    def __init__(self, clock: Callable[[], float] = time.time, max_entries: int = MAX_ENTRIES, max_bytes: int = MAX_BYTES) -> None:
        self._clock = clock
        self._entries: OrderedDict[str, tuple[bytes, float]] = OrderedDict()
        self._bytes = 0
        self._max_entries = max_entries
        self._max_bytes = max_bytes

    async def get(self, key: str) -> bytes | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[1] <= self._clock():
            self._drop(key)
            return None
        self._entries.move_to_end(key)
        return entry[0]

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        return [await self.get(key) for key in keys]

    async def get_many_expiring(self, keys: Sequence[str]) -> list[tuple[bytes, float] | None]:
        values = [await self.get(key) for key in keys]
        now = self._clock()
        return [(value, self._entries[key][1] - now) if value is not None else None for key, value in zip(keys, values)]

    async def put(self, key: str, value: bytes, ttl: float) -> None:
        self._drop(key)
        self._entries[key] = (compact(value), self._clock() + ttl)
        self._bytes += footprint(key, value)
        while len(self._entries) > self._max_entries or self._bytes > self._max_bytes:
            self._drop(next(iter(self._entries)))
            metrics.KEPT_EVICTIONS.labels("state").inc()

    async def put_new(self, key: str, value: bytes, ttl: float) -> bool:
        if await self.get(key) is not None:
            return False
        await self.put(key, value, ttl)
        return True

    async def bump(self, key: str, ttl: float) -> int:
        number = int(await self.get(key) or 0) + 1
        await self.put(key, str(number).encode(), ttl)
        return number

    def _drop(self, key: str) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            self._bytes -= footprint(key, entry[0])

    async def aclose(self) -> None:
        self._entries.clear()
