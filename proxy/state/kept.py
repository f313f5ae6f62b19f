"""Values the process keeps in its own memory (the memory store, the cache in front of a
shared store) are kept as compact copies, and counted with their bookkeeping.

orjson hands back a bytes object whose allocation is 4 KiB however short the JSON (a
marker, an empty page): kept by the thousand, as a key flood makes them, that allocation
rather than the value is what memory holds. A copy is exactly as long as the value.
"""

from __future__ import annotations

# What one kept entry costs beside its key and value: the key and bytes object headers,
# the (value, expiry) tuple, its float and the ordered dict's slot and link.
ENTRY_OVERHEAD = 240


def compact(value: bytes) -> bytes:
    return bytes(memoryview(value))


def footprint(key: str, value: bytes) -> int:
    return len(key) + len(value) + ENTRY_OVERHEAD
