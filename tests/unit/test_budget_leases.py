"""The state file's rate budget takes a busy key's requests a few per transaction
(leases): fewer trips to the file, never more requests than the shared windows allow,
none sent outside the window it was counted in."""

from __future__ import annotations

import asyncio

from proxy.openapi.spec import RateLimit
from proxy.state.sqlite import SQLiteFile
from proxy.state.sqlite_budget import SQLiteBudget
from proxy.upstream.budget import LANDING_MARGIN, Feedback, Leases

BUSY = RateLimit(burst=1_000, steady=60_000, daily=None)
KEY = "pk:account|POST /client/events"
T0 = 1_000_000.0  # a second window's start


def counting_transactions(file: SQLiteFile) -> list[int]:
    count = [0]
    file._db.set_trace_callback(lambda statement: count.__setitem__(0, count[0] + (statement == "BEGIN IMMEDIATE")))
    return count


async def test_a_busy_key_takes_several_requests_per_transaction(tmp_path):
    file = SQLiteFile(tmp_path / "state.sqlite3")
    budget = SQLiteBudget(file)
    for n in range(320):  # a busy second: one at a time, nothing known of the key yet
        assert await budget.reserve(KEY, BUSY, T0 + n / 1000) == 0
    transactions = counting_transactions(file)
    for n in range(320):  # the next second: leases of 320 / 16 = 20
        assert await budget.reserve(KEY, BUSY, T0 + 1 + n / 1000) == 0
    assert transactions[0] == 16
    await file.close()


async def test_concurrent_requests_share_one_trip_to_the_file(tmp_path):
    file = SQLiteFile(tmp_path / "state.sqlite3")
    budget = SQLiteBudget(file)
    for n in range(512):
        await budget.reserve(KEY, BUSY, T0 + n / 1000)
    transactions = counting_transactions(file)
    waits = await asyncio.gather(*(budget.reserve(KEY, BUSY, T0 + 1.1) for _ in range(32)))
    assert waits == [0] * 32 and transactions[0] == 1  # one lease of 512 / 16 = 32 and 31 single takes, together
    assert [await budget.reserve(KEY, BUSY, T0 + 1.2) for _ in range(31)] == [0] * 31
    assert transactions[0] == 1  # the lease's rest served the next ones
    await file.close()


async def test_workers_sharing_the_file_never_exceed_the_burst_cap(tmp_path):
    file_a, file_b = SQLiteFile(tmp_path / "state.sqlite3"), SQLiteFile(tmp_path / "state.sqlite3")
    worker_a, worker_b = SQLiteBudget(file_a), SQLiteBudget(file_b)
    tight = RateLimit(burst=100, steady=60_000, daily=None)
    for worker in (worker_a, worker_b):  # each learns the key is busy (50 a second each)
        for n in range(50):
            await worker.reserve(KEY, tight, T0 - 1 + n / 100)
    transactions = counting_transactions(file_a)
    answers = await asyncio.gather(*(worker.reserve(KEY, tight, T0 + 0.2) for _ in range(150) for worker in (worker_a, worker_b)))
    admitted = sum(wait == 0 for wait in answers)
    # Never more than the cap; less only by what the workers' leases (3 each) still held
    # when the requests stopped.
    assert tight.burst - 2 * 3 <= admitted <= tight.burst
    assert transactions[0] < 150  # worker a took its share in leases of 50 / 16 = 3 (a refusal still asks the file)
    await file_a.close()
    await file_b.close()


def test_a_lease_is_used_only_inside_the_window_it_was_counted_in():
    leases = Leases()
    leases._lease(KEY, T0)  # the key was busy the second before
    leases._leases[KEY].served_before = 10_000
    assert leases.size(KEY, BUSY, T0 + 1 - LANDING_MARGIN / 2) == 1  # about to turn: no lease
    leases.taken(KEY, 5, T0 + 0.5)
    assert [leases.use(KEY, T0 + 0.6) for _ in range(5)] == [True, True, True, True, False]
    leases.taken(KEY, 5, T0 + 0.7)
    assert not leases.use(KEY, T0 + 1 - LANDING_MARGIN)  # past the landing margin: the rest is forgotten


async def test_feedback_that_blocks_the_key_drops_its_lease(tmp_path):
    file = SQLiteFile(tmp_path / "state.sqlite3")
    budget = SQLiteBudget(file)
    for n in range(320):
        await budget.reserve(KEY, BUSY, T0 + n / 1000)
    await budget.reserve(KEY, BUSY, T0 + 1.1)  # takes a lease
    await budget.observe(KEY, BUSY, Feedback(retry_after=5), T0 + 1.1)
    assert await budget.reserve(KEY, BUSY, T0 + 1.2) > 0  # asks the file, which holds the block
    await file.close()
