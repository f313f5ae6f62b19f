"""The state file: one SQLite database every worker of a host shares, beside the spool.

WAL mode lets readers and one writer work at once; `synchronous=NORMAL` keeps it
consistent across a crash (what a state store needs: a lost last second of cache or
counts is harmless, unlike the spool's accepted writes). Every write runs on one thread
of this process, so the event loop never waits for a lock; across processes SQLite's
own locks (and `BEGIN IMMEDIATE` for read-modify-write) keep updates atomic. Expired
rows are swept now and then by whichever process writes.

Plain reads run on the event loop itself, on a connection of their own (`read`): in
WAL mode a reader never waits for a writer, and a point read of rows the operating
system holds in memory costs a few microseconds, far less than handing it to the thread
and waking the loop again (under load those hand-overs were most of a warm read's cost).
That connection never waits: `busy_timeout` 0, and a busy answer (another process
recovering or closing the file, the rare cases where a WAL reader is refused) sends the
read to the thread instead.

Short read-modify-write transactions (a rate budget's take) may run on the loop too, on
a second connection that never waits either (`transaction_now`): when another process or
the thread holds the write lock, the caller hands its work to the thread instead. A
commit appends a page or two to the log without syncing it (`synchronous=NORMAL`); the
checkpoints that sync and copy the log into the file run on the thread (the loop's
connection never starts one, `wal_autocheckpoint` 0), so the loop never waits for the
disk either. Under load a trip to the thread cost several times the transaction itself
(GIL hand-overs, waking the thread and then the loop).
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

SCHEMA = """
CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value BLOB NOT NULL, expires_at REAL NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS state_expiry ON state (expires_at);
CREATE TABLE IF NOT EXISTS usage (route TEXT NOT NULL, key TEXT NOT NULL, counts TEXT NOT NULL, last_seen REAL NOT NULL,
                                  PRIMARY KEY (route, key)) WITHOUT ROWID;
"""
SWEEP_EVERY = 60.0  # seconds between deletions of expired rows
BUSY_TIMEOUT_MS = 5_000  # another worker's write transaction is short; wait for it
# Commits on the loop between two checkpoints handed to the thread: a budget's commit adds
# two or three pages to the log, so about SQLite's own 1,000-page automatic checkpoint.
CHECKPOINT_EVERY = 400


class FileBusy(Exception):
    """The file could not be locked at once on the event loop; nothing was done. The
    file's thread may wait for it (`SQLiteFile.transaction`)."""


class SQLiteFile:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="state-sqlite")
        self._db = _connect(path)
        self._swept_at = 0.0
        self._queued: list[tuple[Callable[[sqlite3.Connection], Any], asyncio.Future[Any]]] = []
        self._reader: sqlite3.Connection | None = None  # opened on the first read, used by the loop only
        self._writer: sqlite3.Connection | None = None  # opened on the first `transaction_now`, likewise
        self._commits_on_loop = 0  # since the last checkpoint handed to the thread

    async def read(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """A read-only `work`: on the event loop when the file answers at once, else on the
        file's thread like any other work."""
        try:
            return work(self._reading())
        except sqlite3.OperationalError:  # busy or locked: the thread may wait, the loop may not
            return await self.run(work)

    def _reading(self) -> sqlite3.Connection:
        if self._reader is None:
            self._reader = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=0)
            self._reader.execute("PRAGMA query_only = 1")
        return self._reader

    def transaction_now(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """`work` inside BEGIN IMMEDIATE … COMMIT, on the event loop, when the file can be
        locked at once; else `FileBusy`, and nothing was done. For short work only: the
        loop waits for it."""
        db = self._writing()
        try:
            db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError:  # locked by another process or the thread: never wait here
            raise FileBusy from None
        try:
            result = work(db)
            db.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                db.execute("ROLLBACK")
            raise
        self._commits_on_loop += 1
        if self._commits_on_loop >= CHECKPOINT_EVERY:
            self._commits_on_loop = 0
            self._queue(_checkpoint)  # nobody waits for it
        return result

    def _writing(self) -> sqlite3.Connection:
        if self._writer is None:
            self._writer = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=0)
            self._writer.execute("PRAGMA synchronous = NORMAL")  # per connection, as the thread's (`_connect`)
            self._writer.execute("PRAGMA wal_autocheckpoint = 0")
        return self._writer

    async def run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """`work` on the file's thread, in the order asked. What is asked within one turn
        of the event loop goes over together: one hand-over to the thread and one wake-up
        of the loop for all of it, not one of each per statement (under load the hand-overs
        cost more than the statements)."""
        return await self._queue(work)

    def _queue(self, work: Callable[[sqlite3.Connection], T]) -> asyncio.Future[T]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        if not self._queued:
            loop.call_soon(self._hand_over, loop)
        self._queued.append((work, future))
        return future

    def _hand_over(self, loop: asyncio.AbstractEventLoop) -> None:
        batch = [(work, future) for work, future in self._queued if not future.cancelled()]
        self._queued = []
        if batch:
            self._executor.submit(self._run_batch, loop, batch)

    def _run_batch(self, loop: asyncio.AbstractEventLoop, batch: list[tuple[Callable[[sqlite3.Connection], Any], asyncio.Future[Any]]]) -> None:
        outcomes: list[tuple[asyncio.Future[Any], Any, Exception | None]] = []
        at = 0
        while at < len(batch):
            work, future = batch[at]
            if isinstance(work, _Atomic):
                end = at
                while end < len(batch) and isinstance(batch[end][0], _Atomic):
                    end += 1
                outcomes += self._atomically(batch[at:end])
                at = end
                continue
            try:
                outcomes.append((future, work(self._db), None))
            except Exception as error:  # the caller's to handle, as if it had run the work itself
                outcomes.append((future, None, error))
            at += 1
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile: nobody waits any more
            loop.call_soon_threadsafe(_settle, outcomes)

    def _atomically(self, group: list[tuple[_Atomic, asyncio.Future[Any]]]) -> list[tuple[asyncio.Future[Any], Any, Exception | None]]:
        """Transactions asked for together share one BEGIN IMMEDIATE … COMMIT (one lock and
        one write to the log for all of them); each runs in its own savepoint, so one that
        fails is undone alone."""
        db = self._db
        try:
            db.execute("BEGIN IMMEDIATE")
        except Exception as error:
            return [(future, None, error) for _, future in group]
        outcomes: list[tuple[asyncio.Future[Any], Any, Exception | None]] = []
        for atomic, future in group:
            db.execute("SAVEPOINT work")
            try:
                result = atomic.work(db)
            except Exception as error:
                db.execute("ROLLBACK TO work")
                db.execute("RELEASE work")
                outcomes.append((future, None, error))
                continue
            db.execute("RELEASE work")
            outcomes.append((future, result, None))
        try:
            db.execute("COMMIT")
        except Exception as error:
            with contextlib.suppress(sqlite3.Error):
                db.execute("ROLLBACK")
            return [(future, None, error) for _, future in group]
        return outcomes

    async def transaction(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """`work` inside BEGIN IMMEDIATE … COMMIT: no other process writes in between."""
        return await self.run(_Atomic(work))

    def sweep_due(self, now: float) -> bool:
        if now - self._swept_at < SWEEP_EVERY:
            return False
        self._swept_at = now
        return True

    async def close(self) -> None:
        for connection in (self._reader, self._writer):
            if connection is not None:
                connection.close()
        self._reader = self._writer = None
        await self.run(lambda db: db.close())
        self._executor.shutdown(wait=True)


class _Atomic:
    """A work for `SQLiteFile.transaction`: run inside a write transaction."""

    __slots__ = ("work",)

    def __init__(self, work: Callable[[sqlite3.Connection], Any]) -> None:
        self.work = work


def _settle(outcomes: list[tuple[asyncio.Future[Any], Any, Exception | None]]) -> None:
    for future, result, error in outcomes:
        if future.done():  # its caller was cancelled while the work ran
            continue
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)


def _checkpoint(db: sqlite3.Connection) -> None:
    """Copy the log into the file as far as no reader still needs it (never waits for one);
    a failure only leaves the log longer until the next checkpoint."""
    with contextlib.suppress(sqlite3.Error):
        db.execute("PRAGMA wal_checkpoint(PASSIVE)")


def _connect(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
    db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = NORMAL")
    db.executescript(SCHEMA)
    return db


class SQLiteValues:
    """`KeyValue` on the state file."""

    def __init__(self, file: SQLiteFile, clock: Callable[[], float] = time.time) -> None:
        self._file = file
        self._clock = clock

    async def get(self, key: str) -> bytes | None:
        (value,) = await self.get_many([key])
        return value

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        return [found[0] if found is not None else None for found in await self.get_many_expiring(keys)]

    async def get_many_expiring(self, keys: Sequence[str]) -> list[tuple[bytes, float] | None]:
        """Each live value with the seconds it has left, or None."""
        if not keys:
            return []
        now = self._clock()

        def read(db: sqlite3.Connection) -> list[tuple[bytes, float] | None]:
            marks = ",".join("?" * len(keys))
            found = db.execute(f"SELECT key, value, expires_at FROM state WHERE key IN ({marks}) AND expires_at > ?", (*keys, now))
            rows = {key: (value, expires_at - now) for key, value, expires_at in found}
            return [rows.get(key) for key in keys]

        return await self._file.read(read)

    async def put(self, key: str, value: bytes, ttl: float) -> None:
        now = self._clock()
        await self._write(lambda db: db.execute("INSERT OR REPLACE INTO state VALUES (?, ?, ?)", (key, value, now + ttl)), now)

    async def put_new(self, key: str, value: bytes, ttl: float) -> bool:
        now = self._clock()

        def claim(db: sqlite3.Connection) -> bool:
            cursor = db.execute(
                "INSERT INTO state VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE"
                " SET value = excluded.value, expires_at = excluded.expires_at WHERE state.expires_at <= ?",
                (key, value, now + ttl, now),
            )
            return cursor.rowcount == 1

        return await self._write(claim, now)

    async def bump(self, key: str, ttl: float) -> int:
        now = self._clock()

        def add_one(db: sqlite3.Connection) -> int:
            (value,) = db.execute(
                "INSERT INTO state VALUES (?, '1', ?) ON CONFLICT (key) DO UPDATE SET"
                " value = CASE WHEN state.expires_at <= ? THEN 1 ELSE CAST(state.value AS INTEGER) + 1 END,"
                " expires_at = excluded.expires_at RETURNING value",
                (key, now + ttl, now),
            ).fetchone()
            return int(value)

        return await self._write(add_one, now)

    async def _write(self, work: Callable[[sqlite3.Connection], T], now: float) -> T:
        if self._file.sweep_due(now):
            await self._file.run(lambda db: db.execute("DELETE FROM state WHERE expires_at <= ?", (now,)))
        return await self._file.run(work)

    async def aclose(self) -> None:
        await self._file.close()
