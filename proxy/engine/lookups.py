"""A short-lived cache of the names and ids legacy answers embed (the lists and segments
a campaign names, say), kept per account in the state store and invalidated by the
proxy's own writes to their family (`proxy.engine.generations`). Warm, a campaign read
is one round of upstream calls instead of two.

What is not found is remembered too (as JSON null), so a campaign naming a deleted list
does not ask again on every read.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import orjson

from proxy.engine.context import Context
from proxy.engine.generations import generation
from proxy.engine.state import LOOKUPS

LOOKUP_TTL = 60.0  # seconds; writes made outside the proxy show after this long

Fetch = Callable[[list[str]], Awaitable[dict[str, Any]]]


async def looked_up(ctx: Context, family: str, kind: str, ids: Iterable[str], fetch: Fetch, ttl: float = LOOKUP_TTL) -> dict[str, Any]:
    """Each id's value (from the cache, else from one `fetch` of all the missing ids);
    ids `fetch` does not return are left out."""
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        return {}
    prefix = f"{LOOKUPS}{ctx.account}:{family}:{await generation(ctx.state, ctx.account, family)}:{kind}:"
    cached = await ctx.state.get_many([prefix + value for value in wanted])
    found = {value: orjson.loads(raw) for value, raw in zip(wanted, cached) if raw is not None}
    missing = [value for value in wanted if value not in found]
    if missing:
        fetched = await fetch(missing)
        for value in missing:
            found[value] = fetched.get(value)
            await ctx.state.put(prefix + value, orjson.dumps(found[value]), ttl)
    return {value: found[value] for value in wanted if found[value] is not None}
