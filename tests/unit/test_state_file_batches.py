"""The state file's thread gets what one turn of the event loop asked for in one
hand-over: in order, each caller its own answer or error, and nothing for a caller that
gave up before the hand-over; and what runs on the event loop instead never waits there."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

from proxy.state.sqlite import CHECKPOINT_EVERY, FileBusy, SQLiteFile, SQLiteValues


async def test_statements_of_one_turn_go_over_together_in_order(tmp_path, monkeypatch):
    file = SQLiteFile(tmp_path / "state.sqlite3")
    hand_overs = []
    submit = file._executor.submit
    monkeypatch.setattr(file._executor, "submit", lambda fn, loop, batch: hand_overs.append(len(batch)) or submit(fn, loop, batch))
    values = SQLiteValues(file)
    order: list[int] = []

    def step(n: int):
        def work(db):
            order.append(n)
            if n == 2:
                raise ValueError("this one fails")
            return n * 10

        return work

    results = await asyncio.gather(*(file.run(step(n)) for n in range(5)), return_exceptions=True)
    assert order == [0, 1, 2, 3, 4] and hand_overs == [5]
    assert results[:2] == [0, 10] and isinstance(results[2], ValueError) and results[3:] == [30, 40]

    await asyncio.gather(values.put("a", b"1", 60), values.put("b", b"2", 60))
    assert await values.get_many(["a", "b", "c"]) == [b"1", b"2", None]
    await file.close()


async def test_a_caller_that_gave_up_before_the_hand_over_costs_nothing(tmp_path):
    file = SQLiteFile(tmp_path / "state.sqlite3")
    ran: list[str] = []
    abandoned = asyncio.ensure_future(file.run(lambda db: ran.append("abandoned")))
    await asyncio.sleep(0)  # queued, not yet handed over
    abandoned.cancel()
    assert await file.run(lambda db: ran.append("kept") or "done") == "done"
    assert ran == ["kept"]
    with pytest.raises(asyncio.CancelledError):
        await abandoned
    await file.close()


async def test_transactions_of_one_turn_share_a_commit_and_a_failed_one_is_undone_alone(tmp_path, monkeypatch):
    file = SQLiteFile(tmp_path / "state.sqlite3")
    statements: list[str] = []
    file._db.set_trace_callback(statements.append)

    def put(key: str, fail: bool = False):
        def work(db):
            db.execute("INSERT INTO state VALUES (?, ?, ?)", (key, b"v", 2e9))
            if fail:
                raise RuntimeError("refused after writing")
            return key

        return work

    results = await asyncio.gather(
        file.transaction(put("kept")), file.transaction(put("undone", fail=True)), file.transaction(put("also kept")),
        return_exceptions=True,
    )
    assert results[0] == "kept" and isinstance(results[1], RuntimeError) and results[2] == "also kept"
    assert statements.count("BEGIN IMMEDIATE") == 1 and statements.count("COMMIT") == 1
    assert await SQLiteValues(file).get_many(["kept", "undone", "also kept"]) == [b"v", None, b"v"]
    await file.close()


async def test_a_read_the_file_refuses_at_once_goes_to_its_thread_instead(tmp_path, monkeypatch):
    """Reads run on the event loop and never wait there: when the loop's reader is refused
    (SQLITE_BUSY: another process recovering or closing the file), the read goes to the
    file's thread, which may wait for the file."""
    file = SQLiteFile(tmp_path / "state.sqlite3")
    values = SQLiteValues(file)
    await values.put("k", b"v", 60)
    handed: list[str] = []
    run = file.run
    monkeypatch.setattr(file, "run", lambda work: handed.append("thread") or run(work))
    assert await values.get("k") == b"v" and handed == []  # on the loop

    class Refused:
        def execute(self, *_):
            raise sqlite3.OperationalError("database is locked")

        def close(self):
            pass

    file._reader = Refused()
    assert await values.get("k") == b"v" and handed == ["thread"]
    await file.close()


async def test_a_transaction_on_the_loop_never_waits_for_the_lock_and_a_failed_one_is_undone(tmp_path):
    """`transaction_now` runs on the event loop only when the file can be locked at once;
    while another process writes it refuses (`FileBusy`) without running the work."""
    path = tmp_path / "state.sqlite3"
    file = SQLiteFile(path)
    values = SQLiteValues(file)
    ran: list[str] = []

    def put(key: str, fail: bool = False):
        def work(db):
            ran.append(key)
            db.execute("INSERT INTO state VALUES (?, ?, ?)", (key, b"v", 2e9))
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


async def test_the_loops_commits_sync_nothing_and_leave_every_checkpoint_to_the_thread(tmp_path):
    """Checkpoints sync the file: never on the event loop, every `CHECKPOINT_EVERY` commits
    made there on the thread instead. A commit there syncs nothing (synchronous=NORMAL,
    as on the thread: FULL, SQLite's default, would sync the log on every commit)."""
    file = SQLiteFile(tmp_path / "state.sqlite3")
    assert file._writing().execute("PRAGMA wal_autocheckpoint").fetchone() == (0,)
    assert file._writing().execute("PRAGMA synchronous").fetchone() == (1,)  # NORMAL
    on_thread: list[str] = []
    file._db.set_trace_callback(on_thread.append)
    for n in range(CHECKPOINT_EVERY):
        file.transaction_now(lambda db: db.execute("INSERT INTO state VALUES (?, ?, ?)", (f"k{n}", b"v", 2e9)))
    await file.run(lambda db: None)  # after the checkpoint, in the order asked
    assert on_thread == ["PRAGMA wal_checkpoint(PASSIVE)"]
    await file.close()
