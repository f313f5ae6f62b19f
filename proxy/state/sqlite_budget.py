"""Rate budgets in the state file: every worker of a host spends one account's budget
together. One row per key (account + operation) holds its windows; check-and-take is a
`BEGIN IMMEDIATE` transaction, so two workers can never both take the last request."""

from __future__ import annotations

import sqlite3

from proxy.openapi.spec import RateLimit
from proxy.state.sqlite import SQLiteFile
from proxy.upstream.budget import Feedback, KeyState

PREFIX = "rate:"


class SQLiteBudget:
    def __init__(self, file: SQLiteFile) -> None:
        self._file = file

    async def reserve(self, key: str, limit: RateLimit, now: float) -> float:
        return await self._file.transaction(lambda db: _update(db, PREFIX + key, now, lambda s: s.take(limit, now)))

    async def observe(self, key: str, limit: RateLimit, feedback: Feedback, now: float) -> None:
        if feedback == Feedback():
            return
        await self._file.transaction(lambda db: _update(db, PREFIX + key, now, lambda s: s.correct(limit, feedback, now)))

    async def aclose(self) -> None:
        """The file is closed by the state store that owns it."""


def _update(db: sqlite3.Connection, key: str, now: float, change):
    row = db.execute("SELECT value FROM state WHERE key = ? AND expires_at > ?", (key, now)).fetchone()
    state = KeyState.loads(row[0] if row else None)
    result = change(state)
    db.execute("INSERT OR REPLACE INTO state VALUES (?, ?, ?)", (key, state.dumps(), state.expires(now) + 1))
    return result
