"""The old v1 listing of lists and segments. (The v2 list routes need no handler: they
are mapping YAML.)"""

from __future__ import annotations

from typing import Any

from proxy.engine.context import Context
from proxy.engine.counts import counts
from proxy.engine.fanout import gather_bounded
from proxy.engine.snapshots import EVERY, page_window
from proxy.legacy.envelopes import page_envelope
from proxy.legacy.responses import LegacyResponse, json_response
from proxy.shapes.v1_list import legacy_v1_list

# Both listings take at most ten per page; creation order is the legacy order.
LISTING = (("page[size]", "10"), ("sort", "created"))
# The spec requires the three flags in every segment, sparse fieldsets or not.
SEGMENT_FIELDS = "name,created,updated,is_active,is_processing,is_starred"


async def all_groups(ctx: Context) -> LegacyResponse:
    """Lists and segments together, oldest first, sliced by `page`/`count` like every v1
    listing; the `$list` total needs them all, so both walks are kept as snapshots. The
    groups on the page carry their member counts (`proxy.engine.counts`)."""
    (lists, _), (segments, _) = await gather_bounded([
        page_window(ctx, ctx.call("GET", "/api/lists", query=(("fields[list]", "name,created,updated"), *LISTING)), _as_is, 0, EVERY),
        page_window(ctx, ctx.call("GET", "/api/segments", query=(("fields[segment]", SEGMENT_FIELDS), *LISTING)), _as_is, 0, EVERY),
    ])
    groups = sorted([*lists, *segments], key=_creation_order)
    page, count = ctx.params["page"], ctx.params["count"]
    window = groups[page * count : (page + 1) * count]
    person_counts = await counts(ctx, ((group["type"], group["id"]) for group in window))
    items = [legacy_v1_list(group, person_counts[(group["type"], group["id"])]) for group in window]
    return json_response(page_envelope(items, page, count, len(groups)))


def _as_is(resource: dict[str, Any], _included: Any) -> dict[str, Any]:
    return resource


def _creation_order(resource: dict[str, Any]) -> tuple[str, str]:
    return ((resource.get("attributes") or {}).get("created") or "", resource["id"])
