"""Rate budgets in the state file: every worker of a host spends one account's budget
together. One row per key (account + operation) holds its windows; check-and-take is a
`BEGIN IMMEDIATE` transaction, so two workers can never both take the last request.
A busy key takes a few requests per transaction (`proxy.upstream.budget.Leases`)."""

from __future__ import annotations

import asyncio
import sqlite3

from proxy.openapi.spec import RateLimit
from proxy.state.sqlite import SQLiteFile
from proxy.upstream.budget import Feedback, KeyState, Leases, take_up_to

PREFIX = "rate:"


class SQLiteBudget:
    def __init__(self, file: SQLiteFile) -> None:
        self._file = file
        self._leases = Leases()
        self._refilling: dict[str, asyncio.Future[None]] = {}  # key -> its lease's refill in flight

    async def reserve(self, key: str, limit: RateLimit, now: float) -> float:
        while not self._leases.use(key, now):
            refilling = self._refilling.get(key)
            if refilling is None:
                return await self._refill(key, limit, now)
            # One refill per key at a time (concurrent ones would each take a lease and
            # leave most of it unused); it may leave some for this request too. `now` is
            # then a few milliseconds old, well inside the lease's landing margin.
            await asyncio.shield(refilling)
        return 0.0

    async def _refill(self, key: str, limit: RateLimit, now: float) -> float:
        done = asyncio.get_running_loop().create_future()
        self._refilling[key] = done
        try:
            most = self._leases.size(key, limit, now)
            wait, taken = await self._file.transaction(
                lambda db: _update(db, PREFIX + key, now, lambda s: take_up_to(s, limit, now, most))
            )
            if taken:
                self._leases.taken(key, taken, now)
            return wait
        finally:
            del self._refilling[key]
            done.set_result(None)

    async def observe(self, key: str, limit: RateLimit, feedback: Feedback, now: float) -> None:
        if feedback == Feedback():
            return
        if feedback.retry_after is not None or (feedback.remaining is not None and feedback.remaining <= 0):
            self._leases.drop(key)
        await self._file.transaction(lambda db: _update(db, PREFIX + key, now, lambda s: s.correct(limit, feedback, now)))

    async def aclose(self) -> None:
        """The file is closed by the state store that owns it."""


def _update(db: sqlite3.Connection, key: str, now: float, change):
    row = db.execute("SELECT value FROM state WHERE key = ? AND expires_at > ?", (key, now)).fetchone()
    state = KeyState.loads(row[0] if row else None)
    result = change(state)
    db.execute("INSERT OR REPLACE INTO state VALUES (?, ?, ?)", (key, state.dumps(), state.expires(now) + 1))
    return result
