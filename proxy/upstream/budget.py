"""Rate budgets: Klaviyo's fixed windows (1 s burst, 60 s steady, 24 h daily, aligned to
the epoch as Klaviyo's are), counted per key (account fingerprint + operation) and
corrected by what upstream reports.

`LocalBudget` counts in this process; `proxy.state.sqlite_budget.SQLiteBudget` in the
state file every worker of a host shares; `proxy.redis_backend.budget.RedisBudget` in
Redis so replicas share one account's budget.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol

import orjson

from proxy import metrics
from proxy.openapi.spec import RateLimit

SECOND, MINUTE, DAY = 1, 60, 86_400
# A request may reach upstream this long after we send it (latency, clock skew); one sent
# closer than this to a window's end is counted in the next window too.
LANDING_MARGIN = 0.1


class Feedback(NamedTuple):
    """What one upstream answer says about the budget (headers Klaviyo sends, not in the spec).
    A named tuple: one is made for every answer, at a third of a frozen dataclass's cost."""

    limit: int | None = None  # RateLimit-Limit: the steady window's real cap
    remaining: int | None = None  # RateLimit-Remaining in the steady window
    reset: float | None = None  # RateLimit-Reset: seconds until the steady window restarts
    retry_after: float | None = None  # Retry-After on a 429


NO_FEEDBACK = Feedback()  # an answer that says nothing about the budget


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
class KeyState:
    """One key's windows, as every backend but Redis keeps them (the logic lives here once)."""

    counts: dict[tuple[int, int], int] = field(default_factory=dict)  # (length, window number) -> requests
    steady_cap: int | None = None
    blocked_until: float = 0.0

    def count(self, length: int, number: int) -> int:
        return self.counts.get((length, number), 0)

    def forget_before(self, now: float) -> None:
        """Forget the windows over before the previous one. The previous one is kept: a
        request whose clock was read a moment before the turn may be counted after one
        read after it (another worker's, or a lease topped up in the background), and
        must still find that window's count."""
        self.counts = {
            (length, number): count
            for (length, number), count in self.counts.items()
            if number >= window_number(length, now) - 1
        }

    def idle(self, now: float) -> bool:
        """Nothing left to remember: every counted window is over and no block holds."""
        return now >= self.blocked_until and all(number < window_number(length, now) for length, number in self.counts)

    def take(self, limit: RateLimit, now: float) -> float:
        """Take one request: 0, or the seconds to wait (and nothing taken)."""
        wait, _ = self.take_up_to(limit, now, 1)
        return wait

    def take_up_to(self, limit: RateLimit, now: float, most: int) -> tuple[float, int]:
        """Take up to `most` (at least 1) requests at once: (0, how many) when at least one
        was taken, else (seconds to wait, 0). As many as one `take` after another would
        get, in one pass: a lease's top-up runs while the file is locked."""
        if now < self.blocked_until:
            return self.blocked_until - now, 0
        self.forget_before(now)
        slots = [(length, cap, number) for length, cap in windows(limit, self.steady_cap) for number in landing_windows(length, now)]
        room = min(cap - self.count(length, number) for length, cap, number in slots)
        if room <= 0:
            return max(window_end(length, number) - now for length, cap, number in slots if self.count(length, number) >= cap), 0
        taken = min(most, room)
        for length, _, number in slots:
            self.counts[(length, number)] = self.count(length, number) + taken
        return 0.0, taken

    def correct(self, limit: RateLimit, feedback: Feedback, now: float) -> None:
        if feedback.retry_after is not None:
            self.blocked_until = max(self.blocked_until, now + feedback.retry_after)
        if feedback.limit is not None:
            self.steady_cap = feedback.limit
        if feedback.remaining is not None:
            cap = self.steady_cap or limit.steady
            minute = (MINUTE, window_number(MINUTE, now))
            # Upstream's count can only be ahead of ours (other clients of the account);
            # never lower ours, requests we counted may still be on their way.
            self.counts[minute] = max(self.counts.get(minute, 0), cap - feedback.remaining)
            if feedback.remaining <= 0 and feedback.reset is not None:
                self.blocked_until = max(self.blocked_until, now + feedback.reset)

    def dumps(self) -> str:
        counts = [[length, number, count] for (length, number), count in self.counts.items()]
        return orjson.dumps({"counts": counts, "cap": self.steady_cap, "blocked": self.blocked_until}).decode()

    @classmethod
    def loads(cls, text: str | bytes | None) -> KeyState:
        if not text:
            return cls()
        saved = orjson.loads(text)
        counts = {(length, number): count for length, number, count in saved["counts"]}
        return cls(counts, saved["cap"], saved["blocked"])

    def expires(self, now: float) -> float:
        """When this state can be forgotten (its longest window, or its block, is over)."""
        ends = [window_end(length, number) for length, number in self.counts]
        return max([now, self.blocked_until, *ends])


@dataclass(slots=True)
class _Lease:
    left: int = 0  # requests taken from the shared budget and not yet used
    until: float = 0.0  # they may leave until then: still inside the windows they were counted in
    next_left: int = 0  # requests of a lease counted ahead for the second's turn (`Leases.counted_at`)
    next_until: float = 0.0
    second: int = 0  # the second window `served` counts
    second_end: float = 0.0  # and when it ends (`window_end`), so most requests compare one time
    served: int = 0  # requests this process let through for the key in that second
    served_before: int = 0  # and in the second before it
    asked: int = 0  # requests that asked for the key, ever
    asked_at_top_up: int = 0  # `asked` when the last top-up set out
    during_top_up: int = 0  # how many asked while the last top-up was on its way
    plenty: int = 0  # `running_low`'s bound: more left than this needs no top-up
    plenty_for: RateLimit | None = None  # the limit `plenty` holds for; None once the two above change


class Leases:
    """Requests taken from a shared budget a few at a time, so a busy key costs one trip
    to the shared store per several requests instead of one per request.

    A lease is counted in the shared windows like that many requests sent at the moment
    it was taken, so its requests may only leave while they would land in the windows it
    was counted in (`lease_end`); what is left then is forgotten, as if sent. Its size
    follows the key's own rate in this process: 1/16 of the requests it let through in the
    previous second, or four times what asked while the last top-up was on its way if
    more (a busy event loop answers in waves), at most `MOST`, a tenth of the burst cap
    and what that rate can use before the lease ends, so a quiet key takes one at a time
    and an unused remainder costs a busy one at most a few percent of its budget. A busy
    key's lease is topped up while what is left would still last two such trips
    (`running_low`), and shortly before it ends by one counted ahead within the landing
    margin (`counted_at`), which serves across the turn of the second; so a steady stream
    of requests rarely waits for the shared store. Feedback that blocks the key drops its
    lease."""

    MOST = 1024
    SHARE = 16
    AHEAD = 0.1  # seconds before a lease ends when its successor is taken
    MAX_KEYS = 4_096

    def __init__(self) -> None:
        self._leases: dict[str, _Lease] = {}

    def use(self, key: str, now: float) -> bool:
        """Let one request through on the key's lease, if it has one left and in time."""
        lease = self._lease(key, now)
        lease.asked += 1
        if (lease.left <= 0 or now >= lease.until) and lease.next_left > 0:  # its successor takes over
            lease.left, lease.until, lease.next_left = lease.next_left, lease.next_until, 0
        if lease.left <= 0 or now >= lease.until:
            return False
        lease.left -= 1
        lease.served += 1
        return True

    def size(self, key: str, limit: RateLimit, now: float) -> int:
        """How many to take from the shared budget now."""
        lease = self._lease(key, now)
        usable = math.ceil(lease.served_before * (lease_end(now) - now))
        return max(1, min(self._largest(lease, limit), usable))

    def _largest(self, lease: _Lease, limit: RateLimit) -> int:
        """The size before the time left in the lease's window bounds it."""
        wanted = max(lease.served_before // self.SHARE, 4 * lease.during_top_up)
        return min(self.MOST, limit.burst // 10, wanted)

    def running_low(self, key: str, limit: RateLimit, now: float) -> bool:
        """A busy key (leases of more than one) with at most half a lease, or two top-up
        trips' worth of requests, left: time to top it up, while the rest serves the
        requests arriving meanwhile. Asked of a key `use` has just let through at `now`
        (so its lease is there, and up to date for `now`)."""
        lease = self._leases[key]
        left = lease.left + lease.next_left
        ending = lease.until - now < self.AHEAD and lease.next_left <= 0
        if lease.plenty_for is not limit:  # (worked out once per second and top-up, not per request)
            lease.plenty, lease.plenty_for = max(self._largest(lease, limit) // 2, 2 * lease.during_top_up), limit
        if not ending and left > lease.plenty:
            return False  # more than half of even the largest lease: most requests, answered without `size`
        size = self.size(key, limit, now)
        return size > 1 and (ending or left <= max(size // 2, 2 * lease.during_top_up))

    def counted_at(self, now: float) -> float:
        """When a top-up asked now is counted: now; or, when the lease it brings would end
        within `AHEAD`, within the landing margin before the turn. Counted there it is
        counted in this second and the next, so its requests may leave from now (they land
        in this second) until the next second's margin (`lease_end`): it serves across the
        turn, at the cost of counting it in this second too."""
        end = lease_end(now)
        return end + LANDING_MARGIN / 2 if end - now < self.AHEAD else now

    def topping_up(self, key: str, now: float) -> None:
        """A top-up sets out (`topped_up` when it is back)."""
        lease = self._lease(key, now)
        lease.asked_at_top_up = lease.asked

    def topped_up(self, key: str, count: int, now: float, at: float) -> None:
        """A top-up asked at `now` and counted `at` (`counted_at`) brought `count`."""
        lease = self._lease(key, now)
        lease.during_top_up, lease.plenty_for = lease.asked - lease.asked_at_top_up, None
        if count and at > now and lease.left > 0 and now < lease.until:  # the current lease goes on until its end
            until = lease_end(at)
            lease.next_until = min(lease.next_until, until) if lease.next_left > 0 else until
            lease.next_left += count
        else:
            self.taken(key, count, at, leaving=0)

    def taken(self, key: str, count: int, now: float, leaving: int = 1) -> None:
        """`count` were taken now; `leaving` of them leave at once, the rest join the lease."""
        lease = self._lease(key, now)
        lease.served += leaving
        if count <= leaving:
            return
        until = lease_end(now)
        if now < lease.until:  # the lease still holds some: all of them leave by the earlier end
            lease.left += count - leaving
            lease.until = min(lease.until, until)
        else:
            lease.left, lease.until = count - leaving, until

    def drop(self, key: str) -> None:
        lease = self._leases.get(key)
        if lease is not None:
            lease.left = lease.next_left = 0

    def _lease(self, key: str, now: float) -> _Lease:
        lease = self._leases.get(key)
        if lease is None:
            if len(self._leases) >= self.MAX_KEYS:  # a key flood: forget them all (only the savings go)
                self._leases.clear()
            second = window_number(SECOND, now)
            lease = self._leases[key] = _Lease(second=second, second_end=window_end(SECOND, second))
        if now >= lease.second_end:  # a later second (a clock read before an await may be one behind: it counts in this one)
            second = window_number(SECOND, now)
            lease.served_before, lease.plenty_for = (lease.served if second == lease.second + 1 else 0), None
            lease.served, lease.second, lease.second_end = 0, second, window_end(SECOND, second)
        return lease


def lease_end(now: float) -> float:
    """Until when a request counted now may be sent: while it still lands in a window it
    was counted in. Counted in second N it may leave until N's end less the landing
    margin; counted within that margin it was counted in N and N + 1 (`landing_windows`),
    so it may leave until N + 1's end less the margin. Longer windows turn on a second's
    turn, so the same bound keeps it inside theirs."""
    return window_end(SECOND, window_number(SECOND, now + LANDING_MARGIN)) - LANDING_MARGIN


class LocalBudget:
    """Counts in this process, for one process only. Bounded: keys with nothing left to
    remember are dropped every `SWEEP_EVERY` reservations, and past `MAX_KEYS` the least
    recently used go (a key flood cannot grow it; a dropped key's counts restart at 0,
    and upstream's own headers correct them)."""

    MAX_KEYS = 4_096
    SWEEP_EVERY = 1_024

    def __init__(self) -> None:
        self._states: OrderedDict[str, KeyState] = OrderedDict()
        self._since_sweep = 0

    def __len__(self) -> int:
        return len(self._states)

    def _state(self, key: str, now: float) -> KeyState:
        state = self._states.get(key)
        if state is None:
            state = self._states[key] = KeyState()
        self._states.move_to_end(key)
        self._since_sweep += 1
        if self._since_sweep >= self.SWEEP_EVERY:
            self._sweep(now, keep=key)
        while len(self._states) > self.MAX_KEYS:
            self._states.popitem(last=False)
            metrics.KEPT_EVICTIONS.labels("rate_budget").inc()
        return state

    def _sweep(self, now: float, keep: str) -> None:
        self._since_sweep = 0
        for name in [name for name, state in self._states.items() if name != keep and state.idle(now)]:
            del self._states[name]

    async def reserve(self, key: str, limit: RateLimit, now: float) -> float:
        return self._state(key, now).take(limit, now)

    async def observe(self, key: str, limit: RateLimit, feedback: Feedback, now: float) -> None:
        self._state(key, now).correct(limit, feedback, now)

    async def aclose(self) -> None:
        """Nothing to release: the counts live in this process."""
