"""Legacy `page`/`count` listings over cursor-paginated collections, in linear time.

A legacy page needs the collection's `total`, which no cursor listing gives, so the
first read walks the collection to its end. What it learns is kept in the state store
as a *snapshot*, per account + legacy route + upstream query, for `WALK_TTL`:

- the cursor at every upstream page boundary and how many legacy items each page gave
  (so `total` is computed once, and any legacy page can be reached by cursor), and
- each page's legacy items, up to `SNAPSHOT_BYTES` per snapshot (so reading pages
  0..K in order costs one upstream call per upstream page of data in all, not per page).

A later page is served from the snapshot; a page whose items were not kept (over the
byte budget, or expired) is read again by its cursor. A cold read of any page works: it
walks once and keeps the snapshot for the pages after it. The proxy's own writes to the
family start a new snapshot (`proxy.engine.generations`); writes made elsewhere show
once the snapshot expires. Each process keeps a copy of what it read while the shared
store keeps it (`proxy.state.front`), so a warm read asks the store only for the
family's generation.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import orjson

from proxy.engine.context import Context
from proxy.engine.generations import family_read, generation
from proxy.engine.state import WALKS
from proxy.shapes.included import Included, index_included
from proxy.upstream.client import Call

WALK_TTL = 300.0  # seconds a snapshot serves later pages; short, so outside writes show soon
SNAPSHOT_BYTES = 16 * 1024 * 1024  # legacy items kept per snapshot; pages past it are read again

# One upstream resource (with the page's included resources) → a legacy item, or None
# to leave it out. Items must be JSON: they are kept in the state store.
Item = Callable[[dict[str, Any], Included], Any]

EVERY = 2**63  # a window past any listing's end: the whole of it


@dataclass
class Snapshot:
    cursors: list[str | None] = field(default_factory=lambda: [None])  # page i is read with cursors[i]
    counts: list[int] = field(default_factory=list)  # legacy items page i gave
    done: bool = False  # the last page has been read: sum(counts) is the total
    kept_bytes: int = 0


async def page_window(ctx: Context, call: Call, item: Item, start: int, stop: int) -> tuple[list[Any], int]:
    """The legacy items [start, stop) of the listing `call` begins, and their total."""
    name = await _name(ctx, call)
    # A first legacy page (most reads) needs the snapshot's first page: both in one read.
    kept_first = [f"{name}:0"] if start == 0 else []
    saved, *first_page = await ctx.state.get_many([name, *kept_first])
    snapshot = Snapshot(**orjson.loads(saved)) if saved else Snapshot()
    in_hand: dict[int, list[Any]] = {}
    if saved and first_page and first_page[0] is not None:
        in_hand[0] = orjson.loads(first_page[0])
    if not snapshot.done:
        await _walk_to_end(ctx, call, item, name, snapshot, in_hand, start, stop)
    pages = _pages_overlapping(snapshot.counts, start, stop)
    missing = [page for page in pages if page not in in_hand]
    for page, kept in zip(missing, await ctx.state.get_many([f"{name}:{page}" for page in missing])):
        in_hand[page] = orjson.loads(kept) if kept is not None else await _read_page(ctx, call, item, snapshot.cursors[page])
    first = sum(snapshot.counts[: pages[0]]) if pages else 0
    items = [value for page in pages for value in in_hand[page]]
    return items[start - first : stop - first], sum(snapshot.counts)


async def _walk_to_end(
    ctx: Context, call: Call, item: Item, name: str, snapshot: Snapshot, in_hand: dict[int, list[Any]], start: int, stop: int
) -> None:
    """Read on from the last page the snapshot knows, keeping in hand only the pages the
    window needs (memory stays one window, however long the collection)."""
    page, offset = len(snapshot.counts), sum(snapshot.counts)
    while True:
        reply = await ctx.send(_at(call, snapshot.cursors[page]))
        items = _items(reply.document, item)
        if offset < stop and offset + len(items) > start:
            in_hand[page] = items
        await _keep(ctx, name, page, items, snapshot)
        snapshot.counts.append(len(items))
        offset += len(items)
        page += 1
        if reply.next_cursor is None:
            snapshot.done = True
            break
        snapshot.cursors.append(reply.next_cursor)
    await ctx.state.put(name, orjson.dumps(asdict(snapshot)), WALK_TTL)


async def _keep(ctx: Context, name: str, page: int, items: list[Any], snapshot: Snapshot) -> None:
    try:
        encoded = orjson.dumps(items)
    except TypeError:  # not JSON orjson can write exactly (an integer past 64 bits): read it again when asked
        return
    if snapshot.kept_bytes + len(encoded) > SNAPSHOT_BYTES:
        return
    snapshot.kept_bytes += len(encoded)
    await ctx.state.put(f"{name}:{page}", encoded, WALK_TTL)


async def _read_page(ctx: Context, call: Call, item: Item, cursor: str | None) -> list[Any]:
    return _items((await ctx.send(_at(call, cursor))).document, item)


def _items(document: Any, item: Item) -> list[Any]:
    document = document or {}
    included = index_included(document)
    return [value for resource in document.get("data") or () if (value := item(resource, included)) is not None]


def _pages_overlapping(counts: list[int], start: int, stop: int) -> list[int]:
    pages, offset = [], 0
    for page, count in enumerate(counts):
        if offset < stop and offset + count > start:
            pages.append(page)
        offset += count
    return pages


def _at(call: Call, cursor: str | None) -> Call:
    if cursor is None:
        return call
    query = (*((k, v) for k, v in call.query if k != "page[cursor]"), ("page[cursor]", cursor))
    return Call(call.method, call.path, call.path_params, query, call.body, call.revision)


async def _name(ctx: Context, call: Call) -> str:
    family = family_read(call.path)
    number = await generation(ctx.state, ctx.account, family)
    listing = orjson.dumps([ctx.entry.source, call.method, call.path, sorted(call.path_params.items()), list(call.query)])
    return f"{WALKS}{ctx.account}:{family}:{number}:{hashlib.sha256(listing).hexdigest()[:32]}"
