"""Usage inventory: which legacy routes an integration really calls, and what they became.

Per legacy route and per key fingerprint (never the key): calls, last seen, status
classes, the new-API operations it turned into, and a latency histogram (p50/p95 are
read from it: each is the upper bound of its bucket, within 10% of the true value).

Each process counts into a small buffer and merges it into the shared `UsageStore`
(the state store's backend: SQLite file or Redis) at most every `FLUSH_EVERY` seconds
and before every read, so the inventory covers every worker and replica and survives
restarts. It is bounded however many keys call: the store tracks at most `MAX_ROWS`
route × key rows, further keys of a route are counted together as `OTHER_KEYS`, and a
row no call touched for `IDLE_DAYS` is dropped.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Protocol

from proxy import metrics

FLUSH_EVERY = 1.0  # seconds between merges into the shared store
MAX_ROWS = 2_000  # route × key rows kept; more keys of a route share OTHER_KEYS
OTHER_KEYS = "(other keys)"
IDLE_DAYS = 30
IDLE_SECONDS = IDLE_DAYS * 86_400
# Latency buckets grow by 10%: bucket i holds (GROWTH**(i-1), GROWTH**i] milliseconds.
GROWTH = 1.1
MAX_BUCKET = 200  # ~ 190 s; slower calls share the last bucket


@lru_cache(maxsize=1024)
def fingerprint(key: str | None) -> str:
    if not key:
        return "(none)"
    return "key:" + hashlib.sha256(key.encode()).hexdigest()[:10]


def folded() -> str:
    """The row a key past `MAX_ROWS` is counted in (and counted as folded)."""
    metrics.KEPT_EVICTIONS.labels("usage_keys").inc()
    return OTHER_KEYS


def bucket_of(ms: float) -> int:
    if ms <= 1:
        return 0
    return min(MAX_BUCKET, math.ceil(math.log(ms, GROWTH)))


@dataclass
class RouteUsage:
    route: str
    key: str
    calls: int = 0
    last_seen: float = 0.0
    statuses: Counter[str] = field(default_factory=Counter)
    operations: Counter[str] = field(default_factory=Counter)
    latencies: Counter[int] = field(default_factory=Counter)  # bucket -> calls

    def merge(self, other: RouteUsage) -> None:
        self.calls += other.calls
        self.last_seen = max(self.last_seen, other.last_seen)
        self.statuses.update(other.statuses)
        self.operations.update(other.operations)
        self.latencies.update(other.latencies)

    def as_dict(self) -> dict[str, Any]:
        return {
            "route": self.route,
            "key": self.key,
            "calls": self.calls,
            "last_seen": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.last_seen)),
            "statuses": dict(sorted(self.statuses.items())),
            "operations": sorted(self.operations),
            "p50_ms": _percentile(self.latencies, 50),
            "p95_ms": _percentile(self.latencies, 95),
        }

    def counts(self) -> dict[str, Any]:
        """The mergeable numbers, as stored."""
        return {
            "calls": self.calls,
            "last_seen": self.last_seen,
            "statuses": dict(self.statuses),
            "operations": dict(self.operations),
            "latencies": {str(bucket): n for bucket, n in self.latencies.items()},
        }

    @classmethod
    def from_counts(cls, route: str, key: str, counts: dict[str, Any]) -> RouteUsage:
        return cls(
            route,
            key,
            counts["calls"],
            counts["last_seen"],
            Counter(counts["statuses"]),
            Counter(counts["operations"]),
            Counter({int(bucket): n for bucket, n in counts["latencies"].items()}),
        )


class UsageStore(Protocol):
    """Where the inventory's rows live; `merge` adds counts to them atomically."""

    async def merge(self, rows: Sequence[RouteUsage], now: float) -> None: ...

    async def rows(self) -> list[RouteUsage]: ...

    async def aclose(self) -> None: ...


class MemoryUsage:
    """Rows in this process only (tests, a single process without a state file)."""

    def __init__(self) -> None:
        self._rows: dict[tuple[str, str], RouteUsage] = {}

    async def merge(self, rows: Sequence[RouteUsage], now: float) -> None:
        for row in rows:
            home = self._rows.get((row.route, row.key))
            if home is None:
                key = row.key if len(self._rows) < MAX_ROWS else folded()
                home = self._rows.setdefault((row.route, key), RouteUsage(row.route, key))
            home.merge(row)
        for name, row in list(self._rows.items()):
            if row.last_seen < now - IDLE_SECONDS:
                del self._rows[name]

    async def rows(self) -> list[RouteUsage]:
        return list(self._rows.values())

    async def aclose(self) -> None:
        """Nothing to release."""


class UsageInventory:
    def __init__(self, store: UsageStore | None = None, clock=time.time) -> None:
        self._store = store or MemoryUsage()
        self._clock = clock
        self._pending: dict[tuple[str, str], RouteUsage] = {}
        self._flushed_at = clock()

    def record(self, route: str, key: str | None, status: int, operations: Iterable[str], ms: float) -> None:
        """Count one call in this process's buffer (no I/O: the request path never waits)."""
        name = (route, fingerprint(key))
        usage = self._pending.get(name)
        if usage is None:
            # A flood of new keys between two flushes is held as one row, not thousands.
            name = name if len(self._pending) < MAX_ROWS else (route, folded())
            usage = self._pending.setdefault(name, RouteUsage(*name))
        usage.calls += 1
        usage.last_seen = self._clock()
        usage.statuses[f"{status // 100}xx"] += 1
        counted = usage.operations
        for operation in operations:  # not `Counter.update`: its type checks cost more than a call's count
            counted[operation] += 1
        usage.latencies[bucket_of(ms)] += 1

    def due(self) -> bool:
        return bool(self._pending) and self._clock() - self._flushed_at >= FLUSH_EVERY

    async def flush(self) -> None:
        pending, self._pending = list(self._pending.values()), {}
        self._flushed_at = self._clock()
        if pending:
            await self._store.merge(pending, self._clock())

    async def rows(self) -> list[RouteUsage]:
        """Every worker's and replica's counts, this process's latest included."""
        await self.flush()
        return await self._store.rows()

    async def snapshot(self) -> list[dict[str, Any]]:
        return report(await self.rows())


def report(rows: Iterable[RouteUsage]) -> list[dict[str, Any]]:
    """The inventory as the usage page and the dashboard show it, busiest first. O(rows):
    the dashboard runs it off the event loop."""
    ordered = sorted(rows, key=lambda usage: (-usage.calls, usage.route, usage.key))
    return [usage.as_dict() for usage in ordered]


def _percentile(latencies: Counter[int], percent: int) -> float | None:
    total = sum(latencies.values())
    if not total:
        return None
    rank = math.ceil(total * percent / 100)
    seen = 0
    for bucket in sorted(latencies):
        seen += latencies[bucket]
        if seen >= rank:
            return round(GROWTH**bucket, 2) if bucket else 1.0
    return None  # unreachable: the ranks add up to the total
