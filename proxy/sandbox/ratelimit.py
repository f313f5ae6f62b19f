"""Klaviyo's fixed-window quotas: per account and operation, a 1 s burst window, a 60 s
steady window and, for a few operations, a 24 h window; all aligned to the epoch."""

from __future__ import annotations

import math
from collections.abc import Hashable
from dataclasses import dataclass

from proxy.openapi.spec import RateLimit

SECOND, MINUTE, DAY = 1, 60, 86_400


@dataclass(frozen=True, slots=True)
class Admitted:
    """The steady window's state, reported in the RateLimit-* headers."""

    limit: int
    remaining: int
    reset: int  # whole seconds until the steady window restarts

    def headers(self) -> dict[str, str]:
        return {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset),
        }


@dataclass(frozen=True, slots=True)
class Throttled:
    retry_after: int  # whole seconds until every exhausted window has restarted


class FixedWindowLimiter:
    def __init__(self) -> None:
        # (key, window length) -> (window number, requests counted in it)
        self._counts: dict[tuple[Hashable, int], tuple[int, int]] = {}

    def take(self, key: Hashable, limit: RateLimit, now: float) -> Admitted | Throttled:
        windows = [(SECOND, limit.burst), (MINUTE, limit.steady)]
        if limit.daily is not None:
            windows.append((DAY, limit.daily))
        exhausted = [
            _seconds_left(length, now) for length, cap in windows if self._used(key, length, now) >= cap
        ]
        if exhausted:
            return Throttled(retry_after=max(exhausted))
        for length, _ in windows:
            self._counts[(key, length)] = (_window(length, now), self._used(key, length, now) + 1)
        return Admitted(
            limit=limit.steady,
            remaining=limit.steady - self._used(key, MINUTE, now),
            reset=_seconds_left(MINUTE, now),
        )

    def _used(self, key: Hashable, length: int, now: float) -> int:
        window, count = self._counts.get((key, length), (None, 0))
        return count if window == _window(length, now) else 0


def _window(length: int, now: float) -> int:
    return math.floor(now / length)


def _seconds_left(length: int, now: float) -> int:
    return max(1, math.ceil((_window(length, now) + 1) * length - now))
