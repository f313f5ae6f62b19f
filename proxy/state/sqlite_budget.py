"""Rate budgets in the state file: every worker of a host spends one account's budget
together. One row per key (account + operation) holds its windows; check-and-take is a
`BEGIN IMMEDIATE` transaction, so two workers can never both take the last request.
A busy key takes a few requests per transaction (`proxy.upstream.budget.Leases`), and
tops its lease up before it runs out. Transactions run on the event loop (tens of
microseconds); while another process holds the file's lock a top-up waits for it in the
background, and requests go on using what is left of the lease."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import structlog

from proxy import metrics
from proxy.openapi.spec import RateLimit
from proxy.state.sqlite import FileBusy, SQLiteFile
from proxy.upstream.budget import MINUTE, NO_FEEDBACK, Feedback, KeyState, Leases, window_number

PREFIX = "rate:"
MAX_SEEN = 4_096
T = TypeVar("T")
_FROM_LEASE = metrics.RATE_BUDGET_TAKES.labels("lease")
_FROM_STORE = metrics.RATE_BUDGET_TAKES.labels("store")

log = structlog.get_logger("proxy")


class SQLiteBudget:
    def __init__(self, file: SQLiteFile) -> None:
        self._file = file
        self._leases = Leases()
        self._refilling: set[str] = set()  # keys whose lease is being refilled
        self._top_ups: set[asyncio.Task[None]] = set()
        self._seen: dict[str, _Seen] = {}

    async def reserve(self, key: str, limit: RateLimit, now: float) -> float:
        if self._leases.use(key, now):
            if key not in self._refilling and self._leases.running_low(key, limit, now):
                self._top_up(key, limit, now)
            _FROM_LEASE.inc()
            return 0.0
        _FROM_STORE.inc()
        if key in self._refilling:
            # One refill per key at a time (one waits while another process holds the
            # file): concurrent ones would each take a lease and leave most of it unused. A
            # request that finds the lease empty meanwhile takes one alone.
            wait, taken = await self._take(key, limit, now, 1)
        else:
            self._refilling.add(key)
            try:
                wait, taken = await self._take(key, limit, now, self._leases.size(key, limit, now))
            finally:
                self._refilling.discard(key)
        if taken:
            self._leases.taken(key, taken, now)
        return wait

    def _top_up(self, key: str, limit: RateLimit, now: float) -> None:
        """Refill the key's lease: at once when the file can be locked, else in the
        background, waiting for the lock while requests go on using what is left."""
        self._leases.topping_up(key, now)
        at = self._leases.counted_at(now)
        work = self._taking(key, limit, at, self._leases.size(key, limit, at))
        try:
            _, taken = self._noted(key, self._file.transaction_now(work))
        except FileBusy:
            self._refilling.add(key)
            task = asyncio.get_running_loop().create_task(self._topping_up(key, now, at, work))
            self._top_ups.add(task)
            task.add_done_callback(self._top_ups.discard)
            return
        except Exception as error:  # no request waits on it: the next one to find the lease empty asks the file itself
            log.warning("rate_budget_top_up_failed", error=type(error).__name__)
            return
        self._leases.topped_up(key, taken, now, at)

    async def _topping_up(self, key: str, now: float, at: float, work: Callable[[sqlite3.Connection], tuple[T, _Seen]]) -> None:
        try:
            _, taken = self._noted(key, await self._file.transaction(work))
            self._leases.topped_up(key, taken, now, at)
        except Exception as error:  # as above
            log.warning("rate_budget_top_up_failed", error=type(error).__name__)
        finally:
            self._refilling.discard(key)

    async def _take(self, key: str, limit: RateLimit, now: float, most: int) -> tuple[float, int]:
        """Up to `most` from the file's windows: (0, how many) when taken, else (seconds to wait, 0)."""
        return await self._change(key, self._taking(key, limit, now, most))

    def _taking(self, key: str, limit: RateLimit, now: float, most: int) -> Callable[[sqlite3.Connection], tuple[tuple[float, int], _Seen]]:
        return lambda db: _update(db, PREFIX + key, now, lambda state: state.take_up_to(limit, now, most))

    async def _change(self, key: str, work: Callable[[sqlite3.Connection], tuple[T, _Seen]]) -> T:
        """A change to the key's windows in the file (`_update`)."""
        return self._noted(key, await self._file.transaction(work))

    def _noted(self, key: str, done: tuple[T, _Seen]) -> T:
        """A change's result, noting what the file then held of the key's steady window."""
        result, seen = done
        if len(self._seen) >= MAX_SEEN and key not in self._seen:  # a key flood: forget them all (only the savings go)
            self._seen.clear()
        self._seen[key] = seen
        return result

    async def observe(self, key: str, limit: RateLimit, feedback: Feedback, now: float) -> None:
        if feedback == NO_FEEDBACK:
            return
        if feedback.retry_after is not None or (feedback.remaining is not None and feedback.remaining <= 0):
            self._leases.drop(key)
        elif self._changes_nothing(key, limit, feedback, now):
            return
        await self._change(key, lambda db: _update(db, PREFIX + key, now, lambda state: state.correct(limit, feedback, now)))

    def _changes_nothing(self, key: str, limit: RateLimit, feedback: Feedback, now: float) -> bool:
        """Whether correcting the file with `feedback` would leave it as it is, judged by what
        this process's last trip for the key saw (`_Seen`): the same steady cap, and a
        steady-window count upstream's remaining does not raise (the file's count can only
        have grown since, and a correction only ever raises it). Most answers say no more
        than this: upstream counts what the proxy counted before sending it."""
        seen = self._seen.get(key)
        if seen is None or seen.minute != window_number(MINUTE, now):
            return False
        if feedback.limit is not None and feedback.limit != seen.cap:
            return False
        if feedback.remaining is None:
            return True
        return (seen.cap or limit.steady) - feedback.remaining <= seen.count

    async def aclose(self) -> None:
        """Lets the top-ups under way finish (their leases go with this process); the file
        is closed by the state store that owns it."""
        await asyncio.gather(*self._top_ups, return_exceptions=True)


def _update(db: sqlite3.Connection, key: str, now: float, change: Callable[[KeyState], T]) -> tuple[T, _Seen]:
    row = db.execute("SELECT value FROM state WHERE key = ? AND expires_at > ?", (key, now)).fetchone()
    state = KeyState.loads(row[0] if row else None)
    result = change(state)
    db.execute("INSERT OR REPLACE INTO state VALUES (?, ?, ?)", (key, state.dumps(), state.expires(now) + 1))
    minute = window_number(MINUTE, now)
    return result, _Seen(minute, state.count(MINUTE, minute), state.steady_cap)


@dataclass(frozen=True, slots=True)
class _Seen:
    """What the file held of a key's steady window after this process's last trip for it
    (its count there can only have grown since)."""

    minute: int
    count: int
    cap: int | None
