"""Markers behind members/all and exclusions/all, kept in the request's state store."""

from __future__ import annotations

from proxy.engine import markers
from proxy.engine.markers import MARKER_TTL, MAX_MARKER, Resume
from proxy.engine.state import MemoryState

RESUME = Resume("/api/v2/group/{group_id}/members/all", "Y6nRLr", "list", 0, "cursor-1")


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_a_marker_stands_for_where_a_walk_stopped_and_can_be_loaded_again():
    state = MemoryState()
    marker = await markers.save(state, RESUME)
    assert 1 <= marker <= MAX_MARKER
    assert await markers.load(state, marker) == await markers.load(state, marker) == RESUME
    assert await markers.load(state, marker + 1) is None


async def test_a_marker_expires_after_its_time_to_live():
    clock = Clock()
    state = MemoryState(clock=clock)
    marker = await markers.save(state, RESUME)
    clock.now = MARKER_TTL - 1
    assert await markers.load(state, marker) == RESUME
    clock.now = MARKER_TTL
    assert await markers.load(state, marker) is None


async def test_the_store_forgets_the_least_recently_used_beyond_capacity():
    state = MemoryState(capacity=2)
    await state.put("a", "list", 60)
    await state.put("b", "segment", 60)
    assert await state.get("a") == "list"
    await state.put("c", "list", 60)
    assert (await state.get("a"), await state.get("b"), await state.get("c"), len(state)) == ("list", None, "list", 2)
