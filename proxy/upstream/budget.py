"""Rate budgets: Klaviyo's fixed windows (1 s burst, 60 s steady, 24 h daily, aligned to
the epoch as Klaviyo's are), counted per key (account fingerprint + operation) and
corrected by what upstream reports.

`LocalBudget` counts in this process; `proxy.redis_backend.budget.RedisBudget` keeps the
same counts in Redis so replicas share one account's budget.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Protocol

from proxy.openapi.spec import RateLimit

SECOND, MINUTE, DAY = 1, 60, 86_400
# A request may reach upstream this long after we send it (latency, clock skew); one sent
# closer than this to a window's end is counted in the next window too.
LANDING_MARGIN = 0.1


@dataclass(frozen=True, slots=True)
class Feedback:
    """What one upstream answer says about the budget (headers Klaviyo sends, not in the spec)."""

    limit: int | None = None  # RateLimit-Limit: the steady window's real cap
    remaining: int | None = None  # RateLimit-Remaining in the steady window
    reset: float | None = None  # RateLimit-Reset: seconds until the steady window restarts
    retry_after: float | None = None  # Retry-After on a 429


class Budget(Protocol):
    async def reserve(self, key: str, limit: RateLimit, now: float) -> float:
        """Take one request from every window of `key` and return 0, or take nothing and
        return how many seconds to wait before asking again."""

    async def observe(self, key: str, limit: RateLimit, feedback: Feedback, now: float) -> None:
        """Correct the counts with upstream's own view of them."""

    async def aclose(self) -> None: ...


def windows(limit: RateLimit, steady_cap: int | None = None) -> list[tuple[int, int]]:
    """(window length, cap) pairs; `steady_cap` is the steady cap upstream reported, if any."""
    pairs = [(SECOND, limit.burst), (MINUTE, steady_cap or limit.steady)]
    if limit.daily is not None:
        pairs.append((DAY, limit.daily))
    return pairs


def window_number(length: int, now: float) -> int:
    return math.floor(now / length)


def landing_windows(length: int, now: float) -> tuple[int, ...]:
    """The windows a request sent now may be counted in upstream: its own, and the next
    one when it is sent so close to the turn that it may arrive after it."""
    numbers = (window_number(length, now), window_number(length, now + LANDING_MARGIN))
    return numbers[:1] if numbers[0] == numbers[1] else numbers


def window_end(length: int, number: int) -> float:
    return (number + 1) * length


@dataclass
class _KeyState:
    counts: dict[tuple[int, int], int] = field(default_factory=dict)  # (length, window number) -> requests
    steady_cap: int | None = None
    blocked_until: float = 0.0

    def count(self, length: int, number: int) -> int:
        return self.counts.get((length, number), 0)

    def forget_before(self, now: float) -> None:
        self.counts = {
            (length, number): count
            for (length, number), count in self.counts.items()
            if number >= window_number(length, now)
        }


class LocalBudget:
    def __init__(self) -> None:
        self._states: dict[str, _KeyState] = {}

    async def reserve(self, key: str, limit: RateLimit, now: float) -> float:
        state = self._states.setdefault(key, _KeyState())
        if now < state.blocked_until:
            return state.blocked_until - now
        state.forget_before(now)
        slots = [(length, cap, number) for length, cap in windows(limit, state.steady_cap) for number in landing_windows(length, now)]
        waits = [window_end(length, number) - now for length, cap, number in slots if state.count(length, number) >= cap]
        if waits:
            return max(waits)
        for length, _, number in slots:
            state.counts[(length, number)] = state.count(length, number) + 1
        return 0.0

    async def observe(self, key: str, limit: RateLimit, feedback: Feedback, now: float) -> None:
        state = self._states.setdefault(key, _KeyState())
        if feedback.retry_after is not None:
            state.blocked_until = max(state.blocked_until, now + feedback.retry_after)
        if feedback.limit is not None:
            state.steady_cap = feedback.limit
        if feedback.remaining is not None:
            cap = state.steady_cap or limit.steady
            minute = (MINUTE, window_number(MINUTE, now))
            # Upstream's count can only be ahead of ours (other clients of the account);
            # never lower ours, requests we counted may still be on their way.
            state.counts[minute] = max(state.counts.get(minute, 0), cap - feedback.remaining)
            if feedback.remaining <= 0 and feedback.reset is not None:
                state.blocked_until = max(state.blocked_until, now + feedback.reset)

    async def aclose(self) -> None:
        """Nothing to release: the counts live in this process."""
