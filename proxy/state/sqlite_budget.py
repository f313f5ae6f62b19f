"""Rate budgets in the state file: every worker of a host spends one account's budget
together. One row per key (account + operation) holds its windows; check-and-take is a
`BEGIN IMMEDIATE` transaction, so two workers can never both take the last request.
A busy key takes a few requests per transaction (`proxy.upstream.budget.Leases`)."""

from __future__ import annotations

import sqlite3

from proxy.openapi.spec import RateLimit
from proxy.state.sqlite import SQLiteFile
from proxy.upstream.budget import Feedback, KeyState, Leases, take_up_to

PREFIX = "rate:"


class SQLiteBudget:
    def __init__(self, file: SQLiteFile) -> None:
        self._file = file
        self._leases = Leases()
        self._refilling: set[str] = set()  # keys whose lease is being refilled

    async def reserve(self, key: str, limit: RateLimit, now: float) -> float:
        if self._leases.use(key, now):
            return 0.0
        # One lease refill per key at a time: concurrent ones would each take a lease and
        # leave most of it unused. Requests arriving meanwhile take one each (in the same
        # trip to the file, `SQLiteFile.run`), as without leases.
        refill = key not in self._refilling
        most = self._leases.size(key, limit, now) if refill else 1
        if refill:
            self._refilling.add(key)
        try:
            wait, taken = await self._file.transaction(
                lambda db: _update(db, PREFIX + key, now, lambda s: take_up_to(s, limit, now, most))
            )
        finally:
            if refill:
                self._refilling.discard(key)
        if taken:
            self._leases.taken(key, taken, now)
        return wait

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
