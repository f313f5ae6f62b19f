"""The marker store behind members/all and exclusions/all, and its bounded memory."""

from __future__ import annotations

from proxy.handlers.markers import MAX_MARKER, Bounded, MemoryMarkers, Resume

RESUME = Resume("/api/v2/group/{group_id}/members/all", "Y6nRLr", "list", 0, "cursor-1")


async def test_a_marker_stands_for_where_a_walk_stopped_and_can_be_loaded_again():
    markers = MemoryMarkers()
    marker = await markers.save(RESUME)
    assert 1 <= marker <= MAX_MARKER
    assert await markers.load(marker) == await markers.load(marker) == RESUME
    assert await markers.load(marker + 1) is None


async def test_the_oldest_markers_are_forgotten_beyond_capacity():
    markers = MemoryMarkers(capacity=2)
    first, second = await markers.save(RESUME), await markers.save(RESUME)
    await markers.load(first)  # used lately: kept
    await markers.save(RESUME)
    assert await markers.load(first) == RESUME
    assert await markers.load(second) is None


def test_bounded_mappings_drop_the_least_recently_used():
    kinds: Bounded[str, str] = Bounded(2)
    kinds.put("a", "list")
    kinds.put("b", "segment")
    assert kinds.get("a") == "list"
    kinds.put("c", "list")
    assert (kinds.get("a"), kinds.get("b"), kinds.get("c"), len(kinds)) == ("list", None, "list", 2)
