"""Legacy collection envelopes."""

from __future__ import annotations

from typing import Any, Sequence


def page_envelope(items: Sequence[Any], page: int, count: int, total: int) -> dict[str, Any]:
    """v1 `$list` page: `end` is inclusive and `page_size` is the number returned.

    Key order follows the real captures: end, object, page_size, start, total, data, page.
    """
    start = page * count if total else 0
    end = start + len(items) - 1 if items else start
    return {
        "end": end,
        "object": "$list",
        "page_size": len(items),
        "start": start,
        "total": total,
        "data": list(items),
        "page": page,
    }


def timeline_envelope(items: Sequence[Any], next_token: str | None) -> dict[str, Any]:
    return {"object": "$list", "count": len(items), "data": list(items), "next": next_token}
