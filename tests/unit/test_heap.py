"""A served process settles its heap once start-up is done, and picks uvloop by default."""

from __future__ import annotations

import gc
import importlib.util

from proxy import heap
from proxy.cli import _uses_uvloop


async def test_settling_freezes_the_start_up_heap_and_raises_the_young_threshold():
    threshold = gc.get_threshold()
    try:
        await heap.settle(None)
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == (heap.YOUNG_THRESHOLD, *threshold[1:])
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)


def test_the_default_loop_is_uvloop_where_it_is_installed():
    assert _uses_uvloop("auto") is (importlib.util.find_spec("uvloop") is not None)
    assert _uses_uvloop("uvloop") and not _uses_uvloop("asyncio")
