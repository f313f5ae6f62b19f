"""The embedded spool: one SQLite file in WAL mode with `synchronous=FULL`, so a commit
is on disk when it returns; writes are group-committed (one fsync for many requests).

One process delivers from a file at a time (an exclusive lock beside it); the admin
commands open it without the lock, which SQLite's own locking makes safe. Claims are
leases kept in memory: a restart forgets them, so whatever was being delivered when
the process died is delivered again (events carry `unique_id`, profiles are upserts).
"""

from __future__ import annotations

import asyncio
import fcntl
import sqlite3
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO, Any, TypeVar

import structlog

from proxy import metrics
from proxy.spool.group_commit import GroupCommit
from proxy.spool.records import Accepted, DeadLetterLimits, SpoolError, Status, Stored

log = structlog.get_logger("proxy.spool")

T = TypeVar("T")
Write = Callable[[sqlite3.Connection], None]

SCHEMA = """
CREATE TABLE IF NOT EXISTS pending (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    token TEXT NOT NULL,
    body BLOB NOT NULL,
    received_at REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    not_before REAL NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS pending_due ON pending (not_before);
CREATE TABLE IF NOT EXISTS dead (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    token TEXT NOT NULL,
    body BLOB NOT NULL,
    received_at REAL NOT NULL,
    attempts INTEGER NOT NULL,
    failed_at REAL NOT NULL,
    reason TEXT NOT NULL
);
"""


class SQLiteSpool:
    def __init__(
        self,
        connection: sqlite3.Connection,
        executor: ThreadPoolExecutor,
        lock: IO[bytes] | None,
        dead_limits: DeadLetterLimits,
        pending_bytes: int,
    ) -> None:
        self._db = connection
        self._executor = executor
        self._lock = lock
        self._dead_limits = dead_limits
        self._leased: dict[int, int] = {}  # claimed id -> its body's size
        self._pending_bytes = pending_bytes
        self._writes: GroupCommit[Write] = GroupCommit(self._commit)

    @classmethod
    async def open(cls, path: Path, *, exclusive: bool = True, dead_limits: DeadLetterLimits = DeadLetterLimits()) -> SQLiteSpool:
        """Open (creating) the spool file; `exclusive` for the process that delivers."""
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="spool-sqlite")
        try:
            lock = _lock(path) if exclusive else None
            connection = await asyncio.get_running_loop().run_in_executor(executor, _connect, path)
            pending_bytes = await asyncio.get_running_loop().run_in_executor(executor, _pending_bytes, connection)
        except BaseException:
            executor.shutdown(wait=False)
            raise
        return cls(connection, executor, lock, dead_limits, pending_bytes)

    async def accept(self, item: Accepted) -> None:
        await self._writes.submit(lambda db: _insert(db, item))
        self._pending_bytes += len(item.body)
        metrics.SPOOL_ACCEPTED.labels(item.kind).inc()

    async def pending_bytes(self) -> int:
        """Kept in memory: this process is the only one that accepts into the file."""
        return self._pending_bytes

    async def claim(self, limit: int, now: float, received_before: float) -> list[Stored]:
        rows = await self._run(
            lambda db: db.execute(
                "SELECT id, kind, token, body, received_at, attempts FROM pending"
                " WHERE not_before <= ? AND received_at <= ? ORDER BY id LIMIT ?",
                (now, received_before, limit + len(self._leased)),
            ).fetchall()
        )
        claimed = [_stored(row) for row in rows if row[0] not in self._leased][:limit]
        self._leased.update((int(stored.id), len(stored.item.body)) for stored in claimed)
        return claimed

    renew_every = None  # claims live in this process's memory and end only with it

    async def renew(self, ids: Sequence[str]) -> None:
        """Nothing to renew: see `renew_every`."""

    async def complete(self, ids: Sequence[str]) -> None:
        freed = await self._settle(ids, lambda db, keys: db.execute(f"DELETE FROM pending WHERE id IN ({_marks(keys)})", keys))
        self._pending_bytes = max(0, self._pending_bytes - freed)

    async def postpone(self, ids: Sequence[str], until: float) -> None:
        await self._settle(
            ids,
            lambda db, keys: db.execute(
                f"UPDATE pending SET not_before = ?, attempts = attempts + 1 WHERE id IN ({_marks(keys)})", (until, *keys)
            ),
        )

    async def bury(self, ids: Sequence[str], reason: str, now: float) -> None:
        dropped = {"age": 0, "count": 0}
        limits = self._dead_limits

        def move(db: sqlite3.Connection, keys: list[int]) -> None:
            db.execute(
                "INSERT INTO dead (id, kind, token, body, received_at, attempts, failed_at, reason)"
                f" SELECT id, kind, token, body, received_at, attempts + 1, ?, ? FROM pending WHERE id IN ({_marks(keys)})",
                (now, reason, *keys),
            )
            db.execute(f"DELETE FROM pending WHERE id IN ({_marks(keys)})", keys)
            dropped["age"] = db.execute("DELETE FROM dead WHERE failed_at < ?", (now - limits.max_age,)).rowcount
            dropped["count"] = db.execute(
                "DELETE FROM dead WHERE id IN (SELECT id FROM dead ORDER BY failed_at, id"
                " LIMIT max(0, (SELECT count(*) FROM dead) - ?))",
                (limits.max_count,),
            ).rowcount

        freed = await self._settle(ids, move)
        self._pending_bytes = max(0, self._pending_bytes - freed)
        report_dropped(dropped)

    async def status(self, now: float) -> Status:
        def read(db: sqlite3.Connection) -> Status:
            self._pending_bytes = _pending_bytes(db)  # also picks up an admin's retry-dead
            metrics.SPOOL_BYTES.set(self._pending_bytes)
            pending, oldest = db.execute("SELECT count(*), min(received_at) FROM pending").fetchone()
            reasons = db.execute("SELECT reason, count(*) FROM dead GROUP BY reason ORDER BY count(*) DESC").fetchall()
            return Status(
                pending=pending,
                oldest_age=None if oldest is None else max(0.0, now - oldest),
                dead=sum(count for _, count in reasons),
                dead_reasons=tuple((reason, count) for reason, count in reasons),
            )

        return await self._run(read)

    async def retry_dead(self) -> int:
        def revive(db: sqlite3.Connection) -> int:
            with db:
                moved = db.execute(
                    "INSERT INTO pending (kind, token, body, received_at)"
                    " SELECT kind, token, body, received_at FROM dead ORDER BY id"
                ).rowcount
                db.execute("DELETE FROM dead")
            return moved

        return await self._run(revive)

    async def purge_dead(self) -> int:
        def purge(db: sqlite3.Connection) -> int:
            with db:
                return db.execute("DELETE FROM dead").rowcount

        return await self._run(purge)

    async def close(self) -> None:
        await self._writes.flush()
        await self._run(lambda db: db.close())
        self._executor.shutdown(wait=True)
        if self._lock is not None:
            self._lock.close()  # closing the descriptor releases the lock

    async def _settle(self, ids: Sequence[str], write: Callable[[sqlite3.Connection, list[int]], Any]) -> int:
        """Run the write for the claimed ids and release them; the bytes their bodies hold."""
        keys = [int(key) for key in ids]
        if keys:
            await self._writes.submit(lambda db: write(db, keys))
        return sum(self._leased.pop(key, 0) for key in keys)

    async def _commit(self, writes: list[Write]) -> None:
        def commit(db: sqlite3.Connection) -> None:
            with db:  # one transaction, one fsync of the WAL, for the whole group
                for write in writes:
                    write(db)

        await self._run(commit)

    async def _run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, work, self._db)


def _connect(path: Path) -> sqlite3.Connection:
    try:
        connection = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=FULL")
        connection.execute("PRAGMA busy_timeout=5000")
        connection.executescript(SCHEMA)
    except sqlite3.Error as error:
        raise SpoolError(f"spool {path}: cannot open: {error}") from None
    connection.isolation_level = "DEFERRED"  # `with connection:` now wraps a transaction
    return connection


def _lock(path: Path) -> IO[bytes]:
    try:
        handle = open(f"{path}.lock", "wb")  # noqa: SIM115 - held open for the spool's life
    except OSError as error:
        raise SpoolError(f"spool {path}: cannot create its lock file: {error.strerror}") from None
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise SpoolError(f"spool {path} is in use by another process; give each replica its own file or use Redis") from None
    return handle


def _pending_bytes(db: sqlite3.Connection) -> int:
    return int(db.execute("SELECT coalesce(sum(length(body)), 0) FROM pending").fetchone()[0])


def report_dropped(dropped: dict[str, int]) -> None:
    """Log and count dead letters dropped past a limit (`age` or `count`)."""
    for limit, count in dropped.items():
        if count:
            metrics.SPOOL_DEAD_DROPPED.labels(limit).inc(count)
            log.warning("spool_dead_letters_dropped", limit=limit, count=count)


def _insert(db: sqlite3.Connection, item: Accepted) -> None:
    db.execute(
        "INSERT INTO pending (kind, token, body, received_at) VALUES (?, ?, ?, ?)",
        (item.kind, item.token, item.body, item.received_at),
    )


def _stored(row: tuple[Any, ...]) -> Stored:
    key, kind, token, body, received_at, attempts = row
    return Stored(str(key), Accepted(kind, token, bytes(body), received_at), attempts)


def _marks(keys: list[int]) -> str:
    return ",".join("?" * len(keys))
