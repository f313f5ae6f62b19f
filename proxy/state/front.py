"""Process memory as a cache in front of a shared store, for values that never change
once written (a marker's resume point, a group's kind): a hit saves a trip to the file
or to Redis; everything else always asks the shared store, so no worker reads a stale
lookup another worker's write has invalidated."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Sequence

from proxy import metrics
from proxy.engine.state import KeyValue
from proxy.state.kept import compact

CAPACITY = 10_000
MAX_AGE = 60.0  # a copy is trusted this long; then the shared store (and its expiry) decides again


class Fronted:
    def __init__(
        self,
        inner: KeyValue,
        immutable_prefixes: tuple[str, ...],
        capacity: int = CAPACITY,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._inner = inner
        self._prefixes = immutable_prefixes
        self._capacity = capacity
        self._clock = clock
        self._known: OrderedDict[str, tuple[bytes, float]] = OrderedDict()

    async def get(self, key: str) -> bytes | None:
        (value,) = await self.get_many([key])
        return value

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        now = self._clock()
        copies = {key: entry[0] for key in keys if (entry := self._known.get(key)) and now - entry[1] < MAX_AGE}
        asked = [key for key in keys if key not in copies]
        found = dict(zip(asked, await self._inner.get_many(asked))) if asked else {}
        for key, value in found.items():
            if value is not None:
                self._remember(key, value)
        return [copies[key] if key in copies else found.get(key) for key in keys]

    async def put(self, key: str, value: bytes, ttl: float) -> None:
        await self._inner.put(key, value, ttl)
        self._remember(key, value)

    async def put_new(self, key: str, value: bytes, ttl: float) -> bool:
        stored = await self._inner.put_new(key, value, ttl)
        if stored:
            self._remember(key, value)
        return stored

    async def bump(self, key: str, ttl: float) -> int:
        return await self._inner.bump(key, ttl)

    def _remember(self, key: str, value: bytes) -> None:
        if not key.startswith(self._prefixes):
            return
        self._known[key] = (compact(value), self._clock())
        self._known.move_to_end(key)
        while len(self._known) > self._capacity:
            self._known.popitem(last=False)
            metrics.KEPT_EVICTIONS.labels("state_cache").inc()

    async def aclose(self) -> None:
        self._known.clear()
        await self._inner.aclose()
