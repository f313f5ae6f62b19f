"""The garbage collector, tuned for a server whose start-up builds a large, lasting heap
(the parsed OpenAPI spec, the mapping table, schema validators) and whose requests make
short-lived garbage.

- Everything alive once the server has started is moved out of the collector's sight
  (`gc.freeze`): a full collection walked all of it, ~100 ms on a 2-core machine, and
  every request that arrived meanwhile waited (the p99).
- The youngest generation is collected every `YOUNG_THRESHOLD` allocations instead of
  CPython's 700: a request allocates hundreds of containers, nearly all freed by reference
  counting, so most young collections found nothing to free and cost CPU on every few
  requests. Garbage in cycles waits at most that many allocations longer (a few MB).
"""

from __future__ import annotations

import gc

from aiohttp import web

YOUNG_THRESHOLD = 20_000


async def settle(_app: web.Application) -> None:
    """Run last among the app's start-up hooks, once the lasting heap is built."""
    gc.collect()  # what start-up left as garbage is freed, not frozen
    gc.freeze()
    _young, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
