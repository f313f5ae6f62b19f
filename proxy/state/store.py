"""The key-value interface every piece of cross-request state is written against.

Values are bytes with a time to live; `put_new` claims a key only if no live value
holds it (markers), `bump` counts up (generations that invalidate caches). Each
backend makes these atomic across every process that shares it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from proxy.staging.usage import UsageStore
from proxy.upstream.budget import Budget

# Key families. Markers and group kinds never change once written, so each process may
# keep its own copy in front of the shared store (`proxy.state.front`).
MARKERS = "marker:"
GROUP_KINDS = "kind:"
IMMUTABLE = (MARKERS, GROUP_KINDS)


class KeyValue(Protocol):
    async def get(self, key: str) -> bytes | None: ...

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]: ...

    async def put(self, key: str, value: bytes, ttl: float) -> None: ...

    async def put_new(self, key: str, value: bytes, ttl: float) -> bool:
        """Store only when no live value has the key; True when stored."""

    async def bump(self, key: str, ttl: float) -> int:
        """Add one to the integer at `key` (0 when absent or expired) and return it."""

    async def aclose(self) -> None: ...


@dataclass(frozen=True)
class State:
    """The store's three faces, sharing one backend (and one connection)."""

    values: KeyValue
    budget: Budget
    usage: UsageStore
    where: str  # "redis", "sqlite <path>" or "process memory": logged at start-up

    async def aclose(self) -> None:
        await self.usage.aclose()
        await self.budget.aclose()
        await self.values.aclose()
