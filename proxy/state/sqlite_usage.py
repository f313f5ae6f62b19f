"""The usage inventory's rows in the state file, merged by every worker in one
transaction each, so counts add up across workers and restarts."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence

from proxy.staging.usage import IDLE_SECONDS, MAX_ROWS, RouteUsage, folded
from proxy.state.sqlite import SQLiteFile


class SQLiteUsage:
    def __init__(self, file: SQLiteFile) -> None:
        self._file = file

    async def merge(self, rows: Sequence[RouteUsage], now: float) -> None:
        def add(db: sqlite3.Connection) -> None:
            db.execute("DELETE FROM usage WHERE last_seen < ?", (now - IDLE_SECONDS,))
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

        await self._file.transaction(add)

    async def rows(self) -> list[RouteUsage]:
        def read(db: sqlite3.Connection) -> list[RouteUsage]:
            found = db.execute("SELECT route, key, counts FROM usage").fetchall()
            return [RouteUsage.from_counts(route, key, json.loads(counts)) for route, key, counts in found]

        return await self._file.scan(read)  # up to `MAX_ROWS` rows: too long for the loop

    async def aclose(self) -> None:
        """The file is closed by the state store that owns it."""


def _read(db: sqlite3.Connection, route: str, key: str) -> RouteUsage | None:
    row = db.execute("SELECT counts FROM usage WHERE route = ? AND key = ?", (route, key)).fetchone()
    return RouteUsage.from_counts(route, key, json.loads(row[0])) if row else None
