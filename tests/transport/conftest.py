"""The upstream transport's tests run on every event loop `serve --event-loop` offers:
uvloop (the default where it is installed) and asyncio's own."""

from __future__ import annotations

import asyncio
import importlib.util


def pytest_asyncio_loop_factories(config, item):
    factories = {"asyncio": asyncio.new_event_loop}
    if importlib.util.find_spec("uvloop") is not None:
        import uvloop

        factories["uvloop"] = uvloop.new_event_loop
    return factories
