"""Legacy collection envelopes, and the check that an answer has the envelope its entry declares."""

from __future__ import annotations

from typing import Any, Sequence

import orjson

from proxy.legacy.responses import LegacyResponse


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


def fits(envelope: str, response: LegacyResponse) -> bool:
    """Whether an answer has the form its mapping entry's `respond.envelope` declares."""
    if envelope == "empty":
        return response.body == b""
    if envelope == "one_zero":
        return response.body in (b"1", b"0") or response.content_type == "image/gif"  # `i=1`: the pixel
    if response.content_type != "application/json":
        return False
    document = response.document if response.document is not None else orjson.loads(response.body)
    if envelope == "array":
        return isinstance(document, list)
    if not isinstance(document, dict):
        return False
    if envelope == "page_list":
        return document.get("object") == "$list" and "total" in document
    if envelope == "timeline":
        return document.get("object") == "$list" and "next" in document
    if envelope == "marker":
        return "records" in document
    return True  # "object"
