"""Plain data the spool keeps and hands out, the same for every backend."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, Sequence

EVENT, PROFILE = "event", "profile"


class SpoolError(Exception):
    """The spool cannot be opened or written; the message names it."""


@dataclass(frozen=True, slots=True)
class Accepted:
    kind: str  # EVENT or PROFILE
    token: str  # the public token the write came with; "" when the proxy holds the key
    body: bytes  # the single-call new-API body (JSON), ready to send or to batch
    received_at: float  # Unix seconds


@dataclass(frozen=True, slots=True)
class Stored:
    id: str
    item: Accepted
    attempts: int  # failed deliveries so far


@dataclass(frozen=True, slots=True)
class Status:
    pending: int
    oldest_age: float | None  # seconds since the oldest pending write was accepted
    dead: int
    dead_reasons: tuple[tuple[str, int], ...] = ()  # (reason, count), most frequent first


class Spool(Protocol):
    async def accept(self, item: Accepted) -> None:
        """Return only once the item is durably stored."""

    async def claim(self, limit: int, now: float, received_before: float) -> list[Stored]:
        """Due items received before a moment, oldest first, that nobody is delivering."""

    async def complete(self, ids: Sequence[str]) -> None: ...

    async def postpone(self, ids: Sequence[str], until: float) -> None:
        """Give items back to be claimed again from `until` on."""

    async def bury(self, ids: Sequence[str], reason: str, now: float) -> None:
        """Move items upstream refused for good to the dead letters."""

    async def status(self, now: float) -> Status: ...

    async def retry_dead(self) -> int:
        """Put every dead letter back in line; how many."""

    async def purge_dead(self) -> int: ...

    async def close(self) -> None: ...
