"""The state file: one SQLite database every worker of a host shares, beside the spool.

WAL mode lets readers and one writer work at once; `synchronous=NORMAL` keeps it
consistent across a crash (what a state store needs: a lost last second of cache or
counts is harmless, unlike the spool's accepted writes). Across processes SQLite's own
locks (and `BEGIN IMMEDIATE` for every write) keep updates atomic. Expired rows are swept
now and then by whichever process writes, a bounded batch at a time.

Everything short runs on the event loop itself, on connections that never wait
(`busy_timeout` 0), and nothing holds a lock across an await:
- Reads (`read`) on a connection of their own: in WAL mode a reader never waits for a
  writer, and a point read of rows the operating system holds in memory costs a few
  microseconds. A busy answer (another process recovering or closing the file, the rare
  cases where a WAL reader is refused) sends the read to the file's thread, which may wait.
- Writes (`transaction`) on a second connection, inside `BEGIN IMMEDIATE … COMMIT`:
  tens of microseconds. A commit appends a page or two to the log without syncing it
  (`synchronous=NORMAL`). When another process holds the write lock the write waits
  without blocking the loop (`asyncio.sleep`, growing pauses, as SQLite's own busy
  handler would) and tries again.

Writes used to run on a thread. Under load each trip there cost several times the
transaction itself, and worse, the thread held the write lock while it waited, again
and again, for the busy event loop to hand it the GIL: a transaction of a few
statements then held the lock for 50–150 ms, every write the loop tried meanwhile found
the file busy and queued behind it, and requests whose rate-budget lease ran out waited
hundreds of milliseconds. Holding the lock only on the loop, between two awaits, it is
never held longer than the work itself.

Checkpoints, which sync the log and copy it into the file, run on a thread and a
connection of their own (`Checkpointer`), started every `CHECKPOINT_EVERY` commits; no
connection starts one by itself (`wal_autocheckpoint` 0). On some disks one sync takes
hundreds of milliseconds; a passive checkpoint takes no lock a writer needs, so writers
go on beside it. Reads too long for the loop (a whole table) run on the file's thread
(`scan`).
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

SCHEMA = """
CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value BLOB NOT NULL, expires_at REAL NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS state_expiry ON state (expires_at);
CREATE TABLE IF NOT EXISTS usage (route TEXT NOT NULL, key TEXT NOT NULL, counts TEXT NOT NULL, last_seen REAL NOT NULL,
                                  PRIMARY KEY (route, key)) WITHOUT ROWID;
"""
SWEEP_EVERY = 60.0  # seconds between deletions of expired rows
SWEEP_BATCH = 500  # expired rows deleted per transaction: a few milliseconds of the loop at most
BUSY_TIMEOUT = 5.0  # seconds: another worker's write transaction is short; wait for it
# Pauses between two tries at a lock another process holds: its transactions take tens of
# microseconds, so start short, and grow as SQLite's busy handler does.
FIRST_PAUSE, LAST_PAUSE = 0.0002, 0.01
# Commits between two checkpoints: a budget's commit adds two or three pages to the log, so
# about SQLite's own 1,000-page automatic checkpoint.
CHECKPOINT_EVERY = 400


class FileBusy(Exception):
    """Another process held the file's write lock; nothing was done (`transaction_now`)."""


class SQLiteFile:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="state-sqlite")
        self._db = _connect(path)  # the thread's, for what may wait
        self._reader = _connect_now(path)
        self._reader.execute("PRAGMA query_only = 1")
        self._writer = _connect_now(path)
        self._writer.execute("PRAGMA synchronous = NORMAL")  # per connection, as the thread's (`_connect`)
        self._writer.execute("PRAGMA wal_autocheckpoint = 0")
        self._checkpointer = Checkpointer(path)
        self._commits = 0  # since the last checkpoint was started
        self._swept_at = 0.0

    async def read(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """A read-only `work`: on the event loop when the file answers at once, else on the
        file's thread."""
        try:
            return work(self._reader)
        except sqlite3.OperationalError:  # busy or locked: the thread may wait, the loop may not
            return await self.scan(work)

    async def scan(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """A read-only `work` too long for the event loop, or one that may wait: on the
        file's thread."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, work, self._db)

    async def transaction(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """`work` inside BEGIN IMMEDIATE … COMMIT, on the event loop: no other process
        writes in between. While another process holds the lock, waits for it (pausing,
        never blocking the loop) up to `BUSY_TIMEOUT`, then raises SQLite's own error."""
        try:
            return self.transaction_now(work)
        except FileBusy:
            pass
        give_up_at = time.monotonic() + BUSY_TIMEOUT
        pause = FIRST_PAUSE
        while time.monotonic() < give_up_at:
            await asyncio.sleep(pause)
            pause = min(pause * 2, LAST_PAUSE)
            try:
                return self.transaction_now(work)
            except FileBusy:
                continue
        raise sqlite3.OperationalError("database is locked")

    def transaction_now(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """`work` inside BEGIN IMMEDIATE … COMMIT, on the event loop, when the file can be
        locked at once; else `FileBusy`, and nothing was done. For short work only: the
        loop waits for it."""
        db = self._writer
        try:
            db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError:  # locked by another process: never wait here
            raise FileBusy from None
        try:
            result = work(db)
            db.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                db.execute("ROLLBACK")
            raise
        self._commits += 1
        if self._commits >= CHECKPOINT_EVERY and self._checkpointer.start():
            self._commits = 0
        return result

    def sweep_due(self, now: float) -> bool:
        if now - self._swept_at < SWEEP_EVERY:
            return False
        self._swept_at = now
        return True

    async def close(self) -> None:
        self._reader.close()
        self._writer.close()
        await self.scan(lambda db: db.close())
        self._executor.shutdown(wait=True)
        self._checkpointer.close()


class Checkpointer:
    """Passive checkpoints of one file, one at a time, on a thread and a connection of
    their own: nobody waits for them. One asked for while another runs is not needed:
    the running one copies what it finds, and the next commits start another."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="state-sqlite-checkpoint")
        self._db: sqlite3.Connection | None = None  # opened by the first checkpoint, on its thread
        self._running: Future[None] | None = None

    def start(self) -> bool:
        """Start a checkpoint unless one is running; whether one was started."""
        if self._running is not None and not self._running.done():
            return False
        self._running = self._executor.submit(self._checkpoint)
        return True

    def _checkpoint(self) -> None:
        """Copy the log into the file as far as no reader still needs it (a passive
        checkpoint never waits for a reader or a writer); a failure only leaves the log
        longer until the next checkpoint."""
        with contextlib.suppress(sqlite3.Error):
            if self._db is None:
                self._db = sqlite3.connect(self._path, check_same_thread=False, isolation_level=None, timeout=0)
            self._db.execute("PRAGMA wal_checkpoint(PASSIVE)")

    def close(self) -> None:
        self._executor.shutdown(wait=True)
        if self._db is not None:
            self._db.close()
            self._db = None


def _connect(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=BUSY_TIMEOUT)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = NORMAL")
    db.execute("PRAGMA wal_autocheckpoint = 0")  # the `Checkpointer`'s work
    db.executescript(SCHEMA)
    return db


def _connect_now(path: Path) -> sqlite3.Connection:
    """A connection for the event loop: it never waits for a lock."""
    return sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=0)


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
            await self._sweep(now)
        return await self._file.transaction(work)

    async def _sweep(self, now: float) -> None:
        """Delete the rows expired by `now`, `SWEEP_BATCH` to a transaction with a turn for
        requests in between, so the loop is never held long however many expired at once."""

        def delete_some(db: sqlite3.Connection) -> int:
            return db.execute(
                "DELETE FROM state WHERE key IN (SELECT key FROM state WHERE expires_at <= ? LIMIT ?)", (now, SWEEP_BATCH)
            ).rowcount

        while await self._file.transaction(delete_some) == SWEEP_BATCH:
            await asyncio.sleep(0)  # requests get a turn between two batches

    async def aclose(self) -> None:
        await self._file.close()
