"""Where a `members/all` or `exclusions/all` batch ended, behind the opaque integer
`marker` the legacy client sends back for the next batch.

`MarkerStore` is the whole interface the batch handlers use, so a store shared by
several proxy processes (Redis, say) can replace the in-memory one without touching
them. The in-memory store is bounded: the least recently used markers go first, and a
marker that is gone (or from before a restart) is refused like an invalid one.
"""

from __future__ import annotations

import secrets
from collections import OrderedDict
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

# Legacy clients include JavaScript ones: keep markers exact as JSON numbers there.
MAX_MARKER = 2**53 - 1
CAPACITY = 10_000

K = TypeVar("K")
V = TypeVar("V")


@dataclass(frozen=True, slots=True)
class Resume:
    route: str  # the legacy route template the marker was given by
    group_id: str
    kind: str  # "list" or "segment"
    step: int  # which of the route's upstream sources the walk is in
    cursor: str | None  # that source's page[cursor]; None: its first page


class MarkerStore(Protocol):
    async def save(self, resume: Resume) -> int: ...

    async def load(self, marker: int) -> Resume | None: ...


class Bounded(Generic[K, V]):
    """A mapping that forgets its least recently used entries beyond `capacity`."""

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._entries: OrderedDict[K, V] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: K) -> V | None:
        value = self._entries.get(key)
        if value is not None:
            self._entries.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> None:
        self._entries[key] = value
        self._entries.move_to_end(key)
        while len(self._entries) > self._capacity:
            self._entries.popitem(last=False)


class MemoryMarkers:
    def __init__(self, capacity: int = CAPACITY) -> None:
        self._resumes: Bounded[int, Resume] = Bounded(capacity)

    async def save(self, resume: Resume) -> int:
        marker = 1 + secrets.randbelow(MAX_MARKER)
        self._resumes.put(marker, resume)
        return marker

    async def load(self, marker: int) -> Resume | None:
        """Loading does not use the marker up: a client retrying a batch gets the same one."""
        return self._resumes.get(marker)


MARKERS: MarkerStore = MemoryMarkers()
