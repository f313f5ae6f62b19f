"""The usage inventory's rows in the state file, merged by every worker in transactions
of its own, so counts add up across workers and restarts."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Callable, Sequence

from proxy.staging.usage import IDLE_SECONDS, MAX_ROWS, RouteUsage, folded
from proxy.state.sqlite import SQLiteFile

# Rows merged per transaction: transactions run on the event loop (`SQLiteFile`), and a
# flood of keys can bring up to `MAX_ROWS` rows at once; requests get a turn in between.
MERGE_BATCH = 100


class SQLiteUsage:
    def __init__(self, file: SQLiteFile) -> None:
        self._file = file

    async def merge(self, rows: Sequence[RouteUsage], now: float) -> None:
        await self._file.transaction(lambda db: db.execute("DELETE FROM usage WHERE last_seen < ?", (now - IDLE_SECONDS,)))
        for start in range(0, len(rows), MERGE_BATCH):
            await asyncio.sleep(0)
            await self._file.transaction(_adding(rows[start : start + MERGE_BATCH]))

    async def rows(self) -> list[RouteUsage]:
        def read(db: sqlite3.Connection) -> list[RouteUsage]:
            found = db.execute("SELECT route, key, counts FROM usage").fetchall()
            return [RouteUsage.from_counts(route, key, json.loads(counts)) for route, key, counts in found]

        return await self._file.scan(read)  # up to `MAX_ROWS` rows: too long for the loop

    async def aclose(self) -> None:
        """The file is closed by the state store that owns it."""


def _adding(rows: Sequence[RouteUsage]) -> Callable[[sqlite3.Connection], None]:
    """Each row's counts added to what the file holds of it, in one transaction; past
    `MAX_ROWS` rows a new key's counts go to its route's folded row."""

    def add(db: sqlite3.Connection) -> None:
        (tracked,) = db.execute("SELECT count(*) FROM usage").fetchone()
        for row in rows:
            stored = _read(db, row.route, row.key)
            if stored is None and tracked >= MAX_ROWS:
                other = folded()
                stored = _read(db, row.route, other) or RouteUsage(row.route, other)
            elif stored is None:
                stored = RouteUsage(row.route, row.key)
                tracked += 1
            stored.merge(row)
            db.execute(
                "INSERT OR REPLACE INTO usage VALUES (?, ?, ?, ?)",
                (stored.route, stored.key, json.dumps(stored.counts()), stored.last_seen),
            )

    return add


def _read(db: sqlite3.Connection, route: str, key: str) -> RouteUsage | None:
    row = db.execute("SELECT counts FROM usage WHERE route = ? AND key = ?", (route, key)).fetchone()
    return RouteUsage.from_counts(route, key, json.loads(row[0])) if row else None
