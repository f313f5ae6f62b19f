"""The state file works on the event loop and never makes it wait: reads and short
transactions run there at once, a lock another process holds is waited for with pauses,
not by blocking, and what may take long (a sync, a whole table, a busy reader) runs on a
thread."""

from __future__ import annotations

import asyncio
import sqlite3
import threading

import pytest

from proxy.state import sqlite as state_file
from proxy.staging.usage import RouteUsage
from proxy.state.sqlite import CHECKPOINT_EVERY, FileBusy, SQLiteFile, SQLiteValues
from proxy.state.sqlite_usage import MERGE_BATCH, SQLiteUsage


def insert(key: str, expires_at: float = 2e9):
    return lambda db: db.execute("INSERT INTO state VALUES (?, ?, ?)", (key, b"v", expires_at))


async def test_a_read_the_file_refuses_at_once_goes_to_its_thread_instead(tmp_path, monkeypatch):
    """Reads run on the event loop and never wait there: when the loop's reader is refused
    (SQLITE_BUSY: another process recovering or closing the file), the read goes to the
    file's thread, which may wait for the file."""
    file = SQLiteFile(tmp_path / "state.sqlite3")
    values = SQLiteValues(file)
    await values.put("k", b"v", 60)
    handed: list[str] = []
    scan = file.scan
    monkeypatch.setattr(file, "scan", lambda work: handed.append("thread") or scan(work))
    assert await values.get("k") == b"v" and handed == []  # on the loop

    class Refused:
        def execute(self, *_):
            raise sqlite3.OperationalError("database is locked")

        def close(self):
            pass

    file._reader = Refused()
    assert await values.get("k") == b"v" and handed == ["thread"]
    await file.close()


async def test_a_transaction_now_never_waits_for_the_lock_and_a_failed_one_is_undone(tmp_path):
    """`transaction_now` runs only when the file can be locked at once; while another
    process writes it refuses (`FileBusy`) without running the work."""
    path = tmp_path / "state.sqlite3"
    file = SQLiteFile(path)
    values = SQLiteValues(file)
    ran: list[str] = []

    def put(key: str, fail: bool = False):
        def work(db):
            ran.append(key)
            insert(key)(db)
            if fail:
                raise RuntimeError("refused after writing")
            return key

        return work

    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    with pytest.raises(FileBusy):
        file.transaction_now(put("refused"))
    other.execute("COMMIT")
    other.close()
    assert file.transaction_now(put("kept")) == "kept"
    with pytest.raises(RuntimeError):
        file.transaction_now(put("undone", fail=True))
    assert ran == ["kept", "undone"]
    assert await values.get_many(["refused", "kept", "undone"]) == [None, b"v", None]
    assert file.transaction_now(put("after")) == "after"  # the failed one left no transaction open
    await file.close()


async def test_a_transaction_waits_for_another_process_without_holding_the_loop(tmp_path):
    path = tmp_path / "state.sqlite3"
    file = SQLiteFile(path)
    loop = asyncio.get_running_loop()
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    loop.call_later(0.1, other.execute, "COMMIT")
    ticked: list[float] = []

    async def tick() -> None:
        await asyncio.sleep(0.01)
        ticked.append(loop.time())

    started = loop.time()
    written, _ = await asyncio.gather(file.transaction(lambda db: insert("k")(db) and "written"), tick())
    assert written == "written" and loop.time() - started >= 0.1  # after the other's commit
    assert ticked[0] - started < 0.09  # the loop went on meanwhile
    assert await SQLiteValues(file).get("k") == b"v"
    other.close()
    await file.close()


async def test_a_transaction_gives_up_on_a_lock_held_too_long(tmp_path, monkeypatch):
    monkeypatch.setattr(state_file, "BUSY_TIMEOUT", 0.05)
    path = tmp_path / "state.sqlite3"
    file = SQLiteFile(path)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        await file.transaction(insert("never"))
    other.execute("ROLLBACK")
    other.close()
    assert await SQLiteValues(file).get("never") is None
    await file.close()


async def test_expired_rows_are_swept_a_bounded_batch_to_a_transaction(tmp_path, monkeypatch):
    monkeypatch.setattr(state_file, "SWEEP_BATCH", 3)
    file = SQLiteFile(tmp_path / "state.sqlite3")
    for n in range(10):
        await file.transaction(insert(f"expired{n}", expires_at=1.0))
    await file.transaction(insert("live"))
    commits: list[str] = []
    file._writer.set_trace_callback(lambda sql: sql == "COMMIT" and commits.append(sql))
    await SQLiteValues(file, clock=lambda: 100.0).put("new", b"v", 60)
    assert len(commits) == 5  # 3 + 3 + 3 + 1 expired rows, then the put
    left = sqlite3.connect(file.path).execute("SELECT key FROM state ORDER BY key").fetchall()
    assert left == [("live",), ("new",)]
    await file.close()


async def test_no_commit_syncs_and_every_checkpoint_runs_on_a_thread_of_its_own(tmp_path):
    """Checkpoints sync the file: never on the event loop, but every `CHECKPOINT_EVERY`
    commits on a thread of their own. A commit syncs nothing (synchronous=NORMAL: FULL,
    SQLite's default, would sync the log on every commit), and no connection checkpoints
    by itself (`wal_autocheckpoint` 0)."""
    path = tmp_path / "state.sqlite3"
    file = SQLiteFile(path)
    for db in (file._writer, file._db):
        assert db.execute("PRAGMA wal_autocheckpoint").fetchone() == (0,)
        assert db.execute("PRAGMA synchronous").fetchone() == (1,)  # NORMAL
    checkpoints: list[tuple[str, str]] = []
    file._checkpointer._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    file._checkpointer._db.set_trace_callback(lambda sql: checkpoints.append((threading.current_thread().name, sql)))
    for n in range(CHECKPOINT_EVERY - 1):
        file.transaction_now(insert(f"k{n}"))
    assert checkpoints == [] and file._checkpointer._running is None
    file.transaction_now(insert("last"))
    file._checkpointer._running.result(timeout=5)
    assert [(thread.split("_")[0], sql) for thread, sql in checkpoints] == [("state-sqlite-checkpoint", "PRAGMA wal_checkpoint(PASSIVE)")]
    await file.close()


async def test_writes_never_wait_for_a_checkpoint(tmp_path):
    """A sync may take hundreds of milliseconds on a slow disk: transactions go on beside
    a checkpoint that has not finished, and no second checkpoint starts until it has."""
    path = tmp_path / "state.sqlite3"
    file = SQLiteFile(path)
    syncing, checkpoints = threading.Event(), []

    def slow_disk(sql: str) -> None:
        checkpoints.append(sql)
        syncing.wait(timeout=10)

    file._checkpointer._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    file._checkpointer._db.set_trace_callback(slow_disk)
    for n in range(3 * CHECKPOINT_EVERY):
        await file.transaction(insert(f"k{n}"))
    assert checkpoints == ["PRAGMA wal_checkpoint(PASSIVE)"] and not file._checkpointer._running.done()
    syncing.set()
    await file.close()
    assert sqlite3.connect(path).execute("SELECT count(*) FROM state").fetchone() == (3 * CHECKPOINT_EVERY,)


async def test_the_usage_inventory_merges_a_flood_a_bounded_batch_to_a_transaction(tmp_path):
    """A flood of keys brings up to `MAX_ROWS` rows to one merge; on the event loop they go
    `MERGE_BATCH` to a transaction, with a turn for requests in between."""
    file = SQLiteFile(tmp_path / "state.sqlite3")
    usage = SQLiteUsage(file)
    rows = [RouteUsage("GET /api/v1/lists", f"key{n}", calls=1, last_seen=1e9) for n in range(2 * MERGE_BATCH + 1)]
    commits: list[str] = []
    file._writer.set_trace_callback(lambda sql: sql == "COMMIT" and commits.append(sql))
    turns = 0

    async def count_turns() -> None:
        nonlocal turns
        while True:
            await asyncio.sleep(0)
            turns += 1

    counting = asyncio.ensure_future(count_turns())
    await usage.merge(rows, now=1e9)
    counting.cancel()
    assert len(commits) == 1 + 3  # the idle rows' deletion, then 100 + 100 + 1 rows
    assert turns >= 2  # the counting task, started at the first turn given, ran between the batches
    assert sorted(row.key for row in await usage.rows()) == sorted(row.key for row in rows)
    await file.close()
