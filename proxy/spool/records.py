"""Plain data the spool keeps and hands out, the same for every backend."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, Sequence

EVENT, PROFILE = "event", "profile"


class SpoolError(Exception):
    """The spool cannot be opened or written; the message names it."""


class SpoolRefused(Exception):
    """The spool will not take this write (it could never be delivered, or the spool is
    full, or its store is unreachable); track and identify answer `0`, the legacy "not
    accepted", so the client keeps the write. `reason` is a short code for metrics."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class DeadLetterLimits:
    """How many dead letters are kept, and for how long; past either the oldest go."""

    max_count: int = 10_000
    max_age: float = 7 * 86_400.0


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
        """Return only once the item is durably stored; `SpoolRefused` when the store is unreachable."""

    async def pending_bytes(self) -> int:
        """The bodies waiting for delivery, in bytes (may lag other replicas by a moment)."""

    async def claim(self, limit: int, now: float, received_before: float) -> list[Stored]:
        """Due items received before a moment, oldest first, that nobody is delivering."""

    renew_every: float | None  # seconds between lease renewals while delivering; None: leases do not expire

    async def renew(self, ids: Sequence[str]) -> None:
        """Keep the claim on items still being delivered."""

    async def complete(self, ids: Sequence[str]) -> None: ...

    async def postpone(self, ids: Sequence[str], until: float) -> None:
        """Give items back to be claimed again from `until` on."""

    async def bury(self, ids: Sequence[str], reason: str, now: float) -> None:
        """Move items upstream refused for good to the dead letters, then drop the
        letters past the spool's `DeadLetterLimits` (logged and counted)."""

    async def status(self, now: float) -> Status: ...

    async def retry_dead(self) -> int:
        """Put every dead letter back in line; how many."""

    async def purge_dead(self) -> int: ...

    async def close(self) -> None: ...
