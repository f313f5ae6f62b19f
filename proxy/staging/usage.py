"""Usage inventory: which legacy routes an integration really calls, and what they became.

Per legacy route and per key fingerprint (never the key): calls, last seen, status
classes, the new-API operations it turned into, and latency percentiles over a bounded
window of recent calls.
"""

from __future__ import annotations

import hashlib
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from functools import lru_cache
from statistics import quantiles
from typing import Any, Iterable

LATENCY_WINDOW = 1024


@lru_cache(maxsize=1024)
def fingerprint(key: str | None) -> str:
    if not key:
        return "(none)"
    return "key:" + hashlib.sha256(key.encode()).hexdigest()[:10]


@dataclass
class RouteUsage:
    route: str
    key: str
    calls: int = 0
    last_seen: float = 0.0
    statuses: Counter[str] = field(default_factory=Counter)
    operations: Counter[str] = field(default_factory=Counter)
    latencies: deque[float] = field(default_factory=lambda: deque(maxlen=LATENCY_WINDOW))

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


class UsageInventory:
    def __init__(self, clock=time.time) -> None:
        self._clock = clock
        self._usage: dict[tuple[str, str], RouteUsage] = {}

    def record(self, route: str, key: str | None, status: int, operations: Iterable[str], ms: float) -> None:
        usage = self._usage.setdefault((route, fingerprint(key)), RouteUsage(route, fingerprint(key)))
        usage.calls += 1
        usage.last_seen = self._clock()
        usage.statuses[f"{status // 100}xx"] += 1
        usage.operations.update(operations)
        usage.latencies.append(ms)

    def snapshot(self) -> list[dict[str, Any]]:
        ordered = sorted(self._usage.values(), key=lambda usage: (-usage.calls, usage.route, usage.key))
        return [usage.as_dict() for usage in ordered]


def _percentile(samples: deque[float], percent: int) -> float | None:
    if not samples:
        return None
    if len(samples) == 1:
        return round(samples[0], 2)
    return round(quantiles(samples, n=100, method="inclusive")[percent - 1], 2)
