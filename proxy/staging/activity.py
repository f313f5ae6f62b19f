"""Calls per legacy route over the last day, in half-hour buckets: the dashboard's sparklines.

Bounded by construction: one fixed-size ring per route template (the mapped routes and
"(unmapped)"), never per key or per concrete path. Kept per process: with several workers
or replicas each dashboard answer shows the activity of the process that served it, which
the page says; the call totals come from the usage inventory.
"""

from __future__ import annotations

import time
from collections.abc import Callable

BUCKET_SECONDS = 1800
BUCKETS = 48  # 24 hours
MAX_ROUTES = 256  # far above the mapped routes; a guard, not a working limit


class RouteActivity:
    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._counts: dict[str, list[int]] = {}
        self._epochs: dict[str, int] = {}  # per route: the bucket number its last slot holds

    def record(self, route: str) -> None:
        counts = self._counts.get(route)
        if counts is None:
            if len(self._counts) >= MAX_ROUTES:
                return
            counts = self._counts[route] = [0] * BUCKETS
            self._epochs[route] = self._bucket()
        now = self._bucket()
        if now > self._epochs[route]:
            counts = self._advance(route, now)
        counts[-1] += 1

    def series(self, route: str) -> list[int]:
        """Calls per bucket, oldest first, the current (partial) bucket last; zeros when unseen."""
        counts, last = self._counts.get(route), self._epochs.get(route)
        if counts is None or last is None:
            return [0] * BUCKETS
        # Read-only (the dashboard draws off the event loop while calls are recorded on it).
        shift = min(max(self._bucket() - last, 0), BUCKETS)
        return counts[shift:] + [0] * shift

    def _bucket(self) -> int:
        return int(self._clock() // BUCKET_SECONDS)

    def _advance(self, route: str, now: int) -> list[int]:
        """Shift the route's ring to bucket `now`; its new list (readers hold the old one)."""
        shift = min(now - self._epochs[route], BUCKETS)
        counts = self._counts[route] = self._counts[route][shift:] + [0] * shift
        self._epochs[route] = now
        return counts
