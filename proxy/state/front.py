"""Process memory as a cache in front of a shared store, for values whose copy cannot go
stale: a hit saves a trip to the file or to Redis. Two kinds qualify:

- values that never change once written (a marker's resume point, a group's kind),
  trusted for `MAX_AGE`, then the shared store (and its expiry) decides again;
- values named by their family's generation (page-walk snapshots, lookups:
  `proxy.engine.state.BY_GENERATION`), trusted exactly as long as the shared store keeps
  them. A write anywhere bumps the generation in the shared store, which every read
  still asks for, so the next read asks for other names: no worker or replica serves a
  snapshot another's write has made old, and none serves one past its time-to-live.

Everything else (generations, counts, anything mutable) always asks the shared store.
Bounded by entries and by the bytes the copies take, least recently used first.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Sequence

from proxy import metrics
from proxy.engine.state import KeyValue
from proxy.state.kept import compact, footprint

CAPACITY = 10_000
MAX_BYTES = 32 * 1024 * 1024
MAX_AGE = 60.0  # an immutable copy is trusted this long; then the shared store (and its expiry) decides again


class Fronted:
    def __init__(
        self,
        inner: KeyValue,
        immutable_prefixes: tuple[str, ...],
        by_generation_prefixes: tuple[str, ...] = (),
        capacity: int = CAPACITY,
        max_bytes: int = MAX_BYTES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._inner = inner
        self._immutable = immutable_prefixes
        self._by_generation = by_generation_prefixes
        self._capacity = capacity
        self._max_bytes = max_bytes
        self._clock = clock
        self._known: OrderedDict[str, tuple[bytes, float]] = OrderedDict()  # key -> (copy, trusted until)
        self._bytes = 0

    async def get(self, key: str) -> bytes | None:
        (value,) = await self.get_many([key])
        return value

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        now = self._clock()
        copies = {}
        for key in keys:
            entry = self._known.get(key)
            if entry is not None and now < entry[1]:
                copies[key] = entry[0]
                self._known.move_to_end(key)
        if len(copies) == len(keys):
            return [copies[key] for key in keys]
        asked = [key for key in keys if key not in copies]
        found = dict(zip(asked, await self._ask(asked, now)))
        return [copies[key] if key in copies else found[key] for key in keys]

    async def _ask(self, keys: list[str], now: float) -> list[bytes | None]:
        """The shared store's values, remembering those a copy of may be kept."""
        if not any(key.startswith(self._by_generation) for key in keys):
            values = await self._inner.get_many(keys)
            for key, value in zip(keys, values):
                if value is not None and key.startswith(self._immutable):
                    self._remember(key, value, now + MAX_AGE)
            return values
        living = await self._inner.get_many_expiring(keys)
        for key, found in zip(keys, living):
            if found is not None:
                self._note(key, found[0], found[1], now)
        return [found[0] if found is not None else None for found in living]

    async def get_many_expiring(self, keys: Sequence[str]) -> list[tuple[bytes, float] | None]:
        return await self._inner.get_many_expiring(keys)

    async def put(self, key: str, value: bytes, ttl: float) -> None:
        await self._inner.put(key, value, ttl)
        self._note(key, value, ttl, self._clock())

    async def put_new(self, key: str, value: bytes, ttl: float) -> bool:
        stored = await self._inner.put_new(key, value, ttl)
        if stored:
            self._note(key, value, ttl, self._clock())
        return stored

    async def bump(self, key: str, ttl: float) -> int:
        return await self._inner.bump(key, ttl)

    def _note(self, key: str, value: bytes, left: float, now: float) -> None:
        """`value` lives `left` more seconds in the shared store."""
        if key.startswith(self._by_generation):
            self._remember(key, value, now + left)
        elif key.startswith(self._immutable):
            self._remember(key, value, now + min(left, MAX_AGE))

    def _remember(self, key: str, value: bytes, until: float) -> None:
        self._forget(key)
        self._known[key] = (compact(value), until)
        self._bytes += footprint(key, value)
        while len(self._known) > self._capacity or self._bytes > self._max_bytes:
            self._forget(next(iter(self._known)))
            metrics.KEPT_EVICTIONS.labels("state_cache").inc()

    def _forget(self, key: str) -> None:
        entry = self._known.pop(key, None)
        if entry is not None:
            self._bytes -= footprint(key, entry[0])

    async def aclose(self) -> None:
        self._known.clear()
        self._bytes = 0
        await self._inner.aclose()
