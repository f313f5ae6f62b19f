"""The marker store behind members/all and exclusions/all, on each state backend."""

from __future__ import annotations

from proxy.engine import markers
from proxy.engine.markers import MARKER_TTL, MAX_MARKER, Resume
from proxy.state.memory import MemoryValues
from proxy.state.sqlite import SQLiteFile, SQLiteValues

RESUME = Resume("/api/v2/group/{group_id}/members/all", "Y6nRLr", "list", 0, "cursor-1", "pk:abc")


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_a_marker_stands_for_where_a_walk_stopped_and_can_be_loaded_again():
    values = MemoryValues()
    marker = await markers.save(values, RESUME)
    assert isinstance(marker, int) and 1 <= marker <= MAX_MARKER
    assert await markers.load(values, marker) == await markers.load(values, marker) == RESUME
    assert await markers.load(values, marker + 1) is None


async def test_a_marker_saved_by_one_process_is_loaded_by_another_and_after_a_restart(tmp_path):
    path = tmp_path / "state.sqlite3"
    first, second = SQLiteValues(SQLiteFile(path)), SQLiteValues(SQLiteFile(path))
    marker = await markers.save(first, RESUME)
    assert await markers.load(second, marker) == RESUME
    await first.aclose()
    await second.aclose()
    restarted = SQLiteValues(SQLiteFile(path))
    assert await markers.load(restarted, marker) == RESUME
    await restarted.aclose()


async def test_markers_expire_on_schedule(tmp_path):
    now = [1_000.0]
    values = SQLiteValues(SQLiteFile(tmp_path / "state.sqlite3"), clock=lambda: now[0])
    marker = await markers.save(values, RESUME)
    now[0] += markers.MARKER_TTL - 1
    assert await markers.load(values, marker) == RESUME
    now[0] += 2
    assert await markers.load(values, marker) is None
    await values.aclose()


async def test_claiming_bumping_and_expiry_behave_alike_in_memory_and_sqlite(tmp_path):
    now = [1_000.0]
    for values in (MemoryValues(clock=lambda: now[0]), SQLiteValues(SQLiteFile(tmp_path / "s.sqlite3"), clock=lambda: now[0])):
        assert await values.put_new("k", b"one", 10) is True
        assert await values.put_new("k", b"two", 10) is False
        assert await values.get_many(["k", "nope"]) == [b"one", None]
        assert [await values.bump("n", 10) for _ in range(3)] == [1, 2, 3]
        now[0] += 11
        assert await values.get("k") is None and await values.put_new("k", b"three", 10) is True
        assert await values.bump("n", 10) == 1
        await values.aclose()


def test_memory_values_drop_the_least_recently_used():
    import asyncio

    async def run():
        values = MemoryValues(max_entries=2)
        await values.put("a", b"1", 60)
        await values.put("b", b"2", 60)
        assert await values.get("a") == b"1"
        await values.put("c", b"3", 60)
        assert (await values.get("a"), await values.get("b"), await values.get("c")) == (b"1", None, b"3")

    asyncio.run(run())


async def test_a_marker_in_memory_expires_after_its_time_to_live():
    clock = Clock()
    values = MemoryValues(clock=clock)
    marker = await markers.save(values, RESUME)
    clock.now = MARKER_TTL - 1
    assert await markers.load(values, marker) == RESUME
    clock.now = MARKER_TTL
    assert await markers.load(values, marker) is None
