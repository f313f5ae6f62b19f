"""The state file's rate budget takes a busy key's requests a few per transaction
(leases), topped up before they run out: fewer trips to the file,
hardly any request waiting for one, never more requests than the shared windows allow,
none sent outside the window it was counted in; and upstream's feedback costs a trip to
the file only when it says something the file does not hold."""

from __future__ import annotations

import asyncio
import sqlite3
from collections import Counter

from prometheus_client import REGISTRY

from proxy.openapi.spec import RateLimit
from proxy.state.sqlite import SQLiteFile
from proxy.state.sqlite_budget import SQLiteBudget
from proxy.upstream.budget import LANDING_MARGIN, SECOND, Feedback, KeyState, Leases, landing_windows, window_number

BUSY = RateLimit(burst=1_000, steady=60_000, daily=None)
KEY = "pk:account|POST /client/events"
T0 = 1_000_000.0  # a second window's start


def counting_transactions(file: SQLiteFile) -> list[int]:
    """Transactions committed from now on."""
    count = [0]
    file._writer.set_trace_callback(lambda statement: count.__setitem__(0, count[0] + (statement == "COMMIT")))
    return count


def reservations(source: str) -> float:
    return REGISTRY.get_sample_value("klp_rate_budget_takes_total", {"source": source}) or 0.0


async def test_a_busy_key_takes_several_requests_per_transaction(tmp_path):
    file = SQLiteFile(tmp_path / "state.sqlite3")
    budget = SQLiteBudget(file)
    for n in range(320):  # a busy second: one at a time, nothing known of the key yet
        assert await budget.reserve(KEY, BUSY, T0 + n / 1000) == 0
    transactions = counting_transactions(file)
    for n in range(320):  # the next second: leases of 320 / 16 = 20
        assert await budget.reserve(KEY, BUSY, T0 + 1 + n / 1000) == 0
    # The first lease, then a top-up of one lease's size whenever half of it is left: it
    # lands at once (on the event loop), so no request finds the lease empty meanwhile.
    assert transactions[0] <= 1 + 320 // 20
    await file.close()


async def test_concurrent_requests_are_served_by_one_lease_topped_up_on_the_way(tmp_path):
    file = SQLiteFile(tmp_path / "state.sqlite3")
    budget = SQLiteBudget(file)
    for n in range(512):
        await budget.reserve(KEY, BUSY, T0 + n / 1000)
    transactions = counting_transactions(file)
    from_store = reservations("store")
    waits = await asyncio.gather(*(budget.reserve(KEY, BUSY, T0 + 1.1) for _ in range(32)))
    assert waits == [0] * 32 and transactions[0] == 2  # a lease of 512 / 16 = 32, topped up when half was used
    assert [await budget.reserve(KEY, BUSY, T0 + 1.2) for _ in range(31)] == [0] * 31
    assert transactions[0] == 3  # and again: one transaction per 16 requests
    assert reservations("store") - from_store == 1  # only the first waited for the file
    await budget.aclose()
    await file.close()


async def test_while_another_process_writes_requests_wait_for_it_and_one_refills_the_lease(tmp_path):
    path = tmp_path / "state.sqlite3"
    file = SQLiteFile(path)
    budget = SQLiteBudget(file)
    for n in range(512):
        await budget.reserve(KEY, BUSY, T0 + n / 1000)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another worker's write: the loop may not wait for it
    asyncio.get_running_loop().call_later(0.05, other.execute, "COMMIT")
    transactions = counting_transactions(file)
    waits = await asyncio.gather(*(budget.reserve(KEY, BUSY, T0 + 1.1) for _ in range(32)))
    assert waits == [0] * 32
    assert transactions[0] == 32  # a lease of 32 for the first, and one each for the 31 that found the refill waiting
    assert [await budget.reserve(KEY, BUSY, T0 + 1.2) for _ in range(31)] == [0] * 31
    assert transactions[0] == 33  # the lease served them, topped up once on the way
    other.close()
    await budget.aclose()
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
    leases.taken(KEY, 5, T0 + 0.5)  # one leaves now, four stay
    assert [leases.use(KEY, T0 + 0.6) for _ in range(5)] == [True, True, True, True, False]
    leases.taken(KEY, 5, T0 + 0.7)
    assert not leases.use(KEY, T0 + 1 - LANDING_MARGIN)  # past the landing margin: the rest is forgotten


def test_a_lease_taken_within_the_landing_margin_serves_the_next_second_it_was_counted_in():
    about_to_turn = T0 + 1 - LANDING_MARGIN / 2
    state = KeyState()
    assert state.take(BUSY, about_to_turn) == 0
    second = window_number(SECOND, about_to_turn)
    assert state.count(SECOND, second) == state.count(SECOND, second + 1) == 1  # counted in both seconds
    leases = Leases()
    leases.taken(KEY, 5, about_to_turn)
    assert leases.use(KEY, T0 + 1.5)
    assert not leases.use(KEY, T0 + 2 - LANDING_MARGIN)  # it would land in a second it was not counted in


def test_a_lease_topped_up_shortly_before_the_turn_is_counted_ahead_and_serves_across_it():
    leases = Leases()
    leases.taken(KEY, 11, T0 + 0.5)  # the current lease: ten left, until the margin
    late = T0 + 1 - LANDING_MARGIN - Leases.AHEAD / 2
    at = leases.counted_at(late)
    assert T0 + 1 - LANDING_MARGIN < at < T0 + 1  # within the margin: counted in this second and the next
    assert leases.counted_at(T0 + 0.5) == T0 + 0.5
    leases.topping_up(KEY, late)
    leases.topped_up(KEY, 5, late, at)
    assert all(leases.use(KEY, late) for _ in range(10))  # the current lease first, then its successor
    assert leases.use(KEY, late) and leases.use(KEY, T0 + 1.2)
    assert [leases.use(KEY, T0 + 1.5) for _ in range(4)] == [True, True, True, False]
    leases.taken(KEY, 11, T0 + 1.5)
    leases.topped_up(KEY, 5, T0 + 1.85, leases.counted_at(T0 + 1.85))
    assert leases.use(KEY, T0 + 2.5)  # the current lease ended unused: its successor serves the next second
    assert not leases.use(KEY, T0 + 3 - LANDING_MARGIN)  # but not past that second's margin


async def test_a_steady_stream_hardly_ever_waits_for_the_file(tmp_path):
    """500 requests a second, each a turn of the event loop apart as a server's are: the
    lease is topped up before it runs dry, so few reservations wait for the file."""
    file = SQLiteFile(tmp_path / "state.sqlite3")
    budget = SQLiteBudget(file)
    for n in range(500):  # the first second teaches the key's rate (one at a time)
        assert await budget.reserve(KEY, BUSY, T0 + n / 500) == 0
        await asyncio.sleep(0.001)
    from_store, from_lease = reservations("store"), reservations("lease")
    for n in range(1000):  # the next two seconds
        assert await budget.reserve(KEY, BUSY, T0 + 1 + n / 500) == 0
        await asyncio.sleep(0.001)
    waited = reservations("store") - from_store
    assert waited + reservations("lease") - from_lease == 1000
    assert waited <= 1000 * 0.1, f"{waited:g} of 1000 reservations waited for the file"
    await budget.aclose()
    await file.close()


async def test_two_processes_topping_up_leases_never_exceed_the_caps_together(tmp_path):
    """Two workers on one file, each sending more than half the caps allow in a steady
    stream: what both let through that may land in any second never exceeds the burst
    cap, however their leases are topped up."""
    capped = RateLimit(burst=100, steady=60_000, daily=None)
    files = [SQLiteFile(tmp_path / "state.sqlite3") for _ in range(2)]
    workers = [SQLiteBudget(file) for file in files]
    admitted: Counter[int] = Counter()

    async def stream(worker: SQLiteBudget, offset: float) -> None:
        for n in range(480):  # 160 a second for three seconds
            now = T0 + offset + n / 160
            if await worker.reserve(KEY, capped, now) == 0:
                for second in landing_windows(SECOND, now):  # each second it may be counted in upstream
                    admitted[second] += 1
            await asyncio.sleep(0.0005)

    await asyncio.gather(stream(workers[0], 0.0), stream(workers[1], 0.003))
    assert max(admitted.values()) <= capped.burst
    assert max(admitted.values()) >= capped.burst * 0.8  # the caps bind, not the leases
    for worker, file in zip(workers, files):
        await worker.aclose()
        await file.close()


async def test_feedback_that_blocks_the_key_drops_its_lease(tmp_path):
    file = SQLiteFile(tmp_path / "state.sqlite3")
    budget = SQLiteBudget(file)
    for n in range(320):
        await budget.reserve(KEY, BUSY, T0 + n / 1000)
    await budget.reserve(KEY, BUSY, T0 + 1.1)  # takes a lease
    await budget.observe(KEY, BUSY, Feedback(retry_after=5), T0 + 1.1)
    assert await budget.reserve(KEY, BUSY, T0 + 1.2) > 0  # asks the file, which holds the block
    await budget.aclose()
    await file.close()


async def test_upstream_feedback_goes_to_the_file_only_when_it_changes_what_the_file_holds(tmp_path):
    """Klaviyo's RateLimit headers come with every answer; most say no more than the file
    already counts, and cost no transaction. One that raises the count still reaches the
    file, and another worker then spends what is left."""
    capped = RateLimit(burst=1_000, steady=100, daily=None)
    path = tmp_path / "state.sqlite3"
    file_a, file_b = SQLiteFile(path), SQLiteFile(path)
    worker_a, worker_b = SQLiteBudget(file_a), SQLiteBudget(file_b)
    for n in range(10):
        assert await worker_a.reserve(KEY, capped, T0 + n / 100) == 0
    transactions = counting_transactions(file_a)
    await worker_a.observe(KEY, capped, Feedback(limit=100, remaining=99, reset=50), T0 + 0.2)
    assert transactions[0] == 1  # the first answer tells the file the cap
    for n in range(2, 11):  # upstream has seen as many of them or fewer: nothing new
        await worker_a.observe(KEY, capped, Feedback(limit=100, remaining=100 - n, reset=50), T0 + 0.2)
    assert transactions[0] == 1
    await worker_a.observe(KEY, capped, Feedback(limit=100, remaining=20, reset=50), T0 + 0.3)  # other clients spent 70
    assert transactions[0] == 2
    admitted = [await worker_b.reserve(KEY, capped, T0 + 2 + n / 100) == 0 for n in range(40)]
    assert sum(admitted) == 20
    await worker_a.observe(KEY, capped, Feedback(limit=80, remaining=10, reset=50), T0 + 2.5)  # a new cap is news
    assert transactions[0] == 3
    for worker, file in ((worker_a, file_a), (worker_b, file_b)):
        await worker.aclose()
        await file.close()
