"""What a request sees of the state store (`Context.state`): bytes under string keys,
each kept for a time-to-live, shared by every worker and replica that shares the
backend (`proxy.state`: Redis, a SQLite file beside the spool, or process memory).

The engine hands each request the store it was built with; nothing reaches it through a
global, so a dry run (explain) works on its own memory store and cannot teach or spend
the real one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

# Key families. Markers and group kinds never change once written, so each process may
# keep its own copy in front of the shared store (`proxy.state.front`).
MARKERS = "marker:"
GROUP_KINDS = "kind:"
IMMUTABLE = (MARKERS, GROUP_KINDS)
# Page-walk snapshots and lookups are named by their family's generation
# (`proxy.engine.generations`): a write anywhere makes the next read ask for other names,
# and a name is only put again by the same reading, so each process may keep its copy as
# long as the shared store keeps the value.
WALKS = "walk:"
LOOKUPS = "lookup:"
BY_GENERATION = (WALKS, LOOKUPS)


class KeyValue(Protocol):
    async def get(self, key: str) -> bytes | None:
        """The value, or None when it was never put or its time-to-live ran out."""

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]: ...

    async def get_many_expiring(self, keys: Sequence[str]) -> list[tuple[bytes, float] | None]:
        """Each live value with the seconds it has left, or None."""

    async def put(self, key: str, value: bytes, ttl: float) -> None:
        """Keep `value` under `key` for `ttl` seconds."""

    async def put_new(self, key: str, value: bytes, ttl: float) -> bool:
        """Store only when no live value has the key; True when stored."""

    async def bump(self, key: str, ttl: float) -> int:
        """Add one to the integer at `key` (0 when absent or expired) and return it."""

    async def aclose(self) -> None: ...
