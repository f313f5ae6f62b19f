"""The SQLite spool: durable acceptance with group commit, leases, postponement, dead
letters, and the admin commands."""

import asyncio
import sqlite3

import pytest

from proxy.cli import main
from proxy.spool.group_commit import GroupCommit
from proxy.spool.records import EVENT, PROFILE, Accepted, SpoolError
from proxy.spool.sqlite import SQLiteSpool

NOW = 1_700_000_000.0


def item(n: int, kind: str = EVENT, token: str = "DemoPk") -> Accepted:
    return Accepted(kind, token, b'{"n": %d}' % n, NOW + n)


@pytest.fixture
async def spool(tmp_path):
    opened = await SQLiteSpool.open(tmp_path / "spool.sqlite3")
    yield opened
    await opened.close()


async def test_group_commit_shares_one_commit_among_concurrent_writers():
    commits: list[list[int]] = []

    async def commit(items: list[int]) -> None:
        await asyncio.sleep(0.01)
        commits.append(items)

    group = GroupCommit(commit)
    first = asyncio.create_task(group.submit(0))
    await asyncio.sleep(0.001)  # its commit is under way when the others arrive
    await asyncio.gather(first, *(group.submit(n) for n in range(1, 200)))
    assert commits == [[0], list(range(1, 200))]


async def test_a_failed_commit_fails_every_writer_in_it():
    async def commit(items: list[int]) -> None:
        raise OSError("disk full")

    group = GroupCommit(commit)
    results = await asyncio.gather(*(group.submit(n) for n in range(5)), return_exceptions=True)
    assert all(isinstance(result, OSError) for result in results)


async def test_accepted_items_survive_a_reopen_in_order(tmp_path):
    path = tmp_path / "spool.sqlite3"
    spool = await SQLiteSpool.open(path)
    await asyncio.gather(*(spool.accept(item(n)) for n in range(50)))
    await spool.close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    spool = await SQLiteSpool.open(path)
    claimed = await spool.claim(100, NOW + 100, NOW + 100)
    assert [stored.item for stored in claimed] == [item(n) for n in range(50)]
    await spool.close()


async def test_claims_are_leases_and_only_what_is_due(spool):
    for n in range(5):
        await spool.accept(item(n))
    first = await spool.claim(2, NOW + 10, NOW + 10)
    second = await spool.claim(10, NOW + 10, NOW + 10)
    assert [s.item.body for s in first] == [b'{"n": 0}', b'{"n": 1}']
    assert [s.item.body for s in second] == [b'{"n": 2}', b'{"n": 3}', b'{"n": 4}']
    assert await spool.claim(10, NOW + 10, NOW + 10) == []
    await spool.complete([s.id for s in first])
    await spool.postpone([s.id for s in second], until=NOW + 60)
    assert await spool.claim(10, NOW + 59, NOW + 59) == []
    again = await spool.claim(10, NOW + 60, NOW + 60)
    assert [s.attempts for s in again] == [1, 1, 1]
    assert (await spool.status(NOW + 10)).pending == 3


async def test_recent_writes_linger_for_their_batch(spool):
    await spool.accept(item(0))
    await spool.accept(item(5))
    claimed = await spool.claim(10, NOW + 6, received_before=NOW + 1)
    assert [s.item.received_at for s in claimed] == [NOW]


async def test_dead_letters_keep_the_reason_and_can_be_retried_or_purged(tmp_path, capsys):
    path = tmp_path / "spool.sqlite3"
    spool = await SQLiteSpool.open(path)
    for n in range(4):
        await spool.accept(item(n, PROFILE if n == 3 else EVENT))
    claimed = await spool.claim(10, NOW + 10, NOW + 10)
    await spool.bury([s.id for s in claimed[:2]], "400 invalid: bad email", NOW + 10)
    await spool.bury([claimed[3].id], "403 permission_denied: no scope", NOW + 10)
    status = await spool.status(NOW + 10)
    assert (status.pending, status.dead) == (1, 3)
    assert status.dead_reasons == (("400 invalid: bad email", 2), ("403 permission_denied: no scope", 1))
    assert status.oldest_age == pytest.approx(8)
    await spool.close()

    # The operator's commands work on the file, even while a proxy holds it.
    holder = await SQLiteSpool.open(path)
    assert await asyncio.to_thread(main, ["spool", "status", "--spool-path", str(path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("pending: 1 (oldest ") and lines[1:] == [
        "dead letters: 3",
        "       2  400 invalid: bad email",
        "       1  403 permission_denied: no scope",
    ]
    assert await asyncio.to_thread(main, ["spool", "retry-dead", "--spool-path", str(path)]) == 0
    assert capsys.readouterr().out == "3 dead letters put back in line\n"
    revived = await holder.claim(10, NOW + 20, NOW + 20)
    assert sorted(s.item.body for s in revived) == [item(n).body for n in range(4)]
    assert [s.item.kind for s in revived].count(PROFILE) == 1
    await holder.bury([s.id for s in revived], "400 invalid: still bad", NOW + 20)
    assert await asyncio.to_thread(main, ["spool", "purge-dead", "--spool-path", str(path)]) == 0
    assert capsys.readouterr().out == "4 dead letters deleted\n"
    assert (await holder.status(NOW + 20)).dead == 0
    await holder.close()


async def test_one_delivering_process_per_file(tmp_path):
    path = tmp_path / "spool.sqlite3"
    holder = await SQLiteSpool.open(path)
    with pytest.raises(SpoolError, match="in use by another process"):
        await SQLiteSpool.open(path)
    await holder.close()
    await (await SQLiteSpool.open(path)).close()


async def test_an_unusable_path_is_a_clear_error(tmp_path, capsys):
    (tmp_path / "dir.sqlite3").mkdir()
    with pytest.raises(SpoolError, match="cannot open"):
        await SQLiteSpool.open(tmp_path / "dir.sqlite3", exclusive=False)
    assert await asyncio.to_thread(main, ["spool", "status", "--spool-path", str(tmp_path / "dir.sqlite3")]) == 1
    assert "cannot open" in capsys.readouterr().err
