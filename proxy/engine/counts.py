"""Counts legacy answers carry as integers that legacy readers sum, and that the new API
gives only through a slow or extra read:

- a list's or segment's `person_count`: its `profile_count`, read on the single read with
  `additional-fields[list]=profile_count` (`[segment]`), which puts that read in a tier
  of one request a second and 15 a minute per account (the governor keeps that tier as a
  budget of its own);
- a sent campaign's `num_recipients`: its `estimated_recipient_count`
  (GET /api/campaign-recipient-estimations/{id}, 10/s, 150/m).

A legacy read must never wait or fail for a count, so:

- a count is kept per account and resource in the state store (shared by workers,
  replicas and restarts). It is *fresh* for `COUNT_FRESH` seconds, unless the proxy has
  since written to that family of resources (its generation, `proxy.engine.generations`);
  it is kept as the *last known* count for `COUNT_KEPT` seconds;
- a resource without a fresh count is counted again only when the tier's budget is free
  right now: the call is sent with `may_wait=False`, so the governor refuses it at once
  instead of waiting, and it is never retried. A kind's resources are counted a few at a
  time (`Counted.at_once`, its tier's burst), stopping after the first refusal; the rest
  are counted by later reads;
- otherwise the answer is the last known count, or `UNKNOWN` (0) when none was read
  within `COUNT_KEPT`: 0 is the one integer that leaves a reader's sum of the known counts
  right. A resource that no longer exists counts 0 too.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

import orjson
import structlog

from proxy.engine.context import Context
from proxy.engine.generations import generation
from proxy.newapi.errors import UpstreamError, UpstreamRejected, UpstreamThrottled

COUNTS = "count:"
COUNT_FRESH = 600.0  # seconds a count is answered without asking again
COUNT_KEPT = 86_400.0  # seconds a count is kept as the last known one
UNKNOWN = 0  # the count of a group never counted (within COUNT_KEPT) nor countable now


@dataclass(frozen=True)
class Counted:
    path: str  # the read that answers the count, by id
    query: tuple[tuple[str, str], ...]
    attribute: str  # where the count is in the answer's `data.attributes`
    family: str  # whose writes may change it (`proxy.engine.generations`)
    at_once: int  # counted concurrently: the tier's burst per second


COUNTED = {
    "list": Counted(
        "/api/lists/{id}",
        (("additional-fields[list]", "profile_count"), ("fields[list]", "profile_count")),
        "profile_count",
        "groups",
        1,
    ),
    "segment": Counted(
        "/api/segments/{id}",
        # The spec requires a segment's three flags in every answer, sparse or not.
        (("additional-fields[segment]", "profile_count"), ("fields[segment]", "profile_count,is_active,is_processing,is_starred")),
        "profile_count",
        "groups",
        1,
    ),
    "campaign": Counted(
        "/api/campaign-recipient-estimations/{id}",
        (("fields[campaign-recipient-estimation]", "estimated_recipient_count"),),
        "estimated_recipient_count",
        "campaigns",
        10,
    ),
}

Counting = tuple[str, str]  # (kind: a key of COUNTED, id)

log = structlog.get_logger("proxy")


async def counts(ctx: Context, wanted: Iterable[Counting]) -> dict[Counting, int]:
    """Each resource's count (see the module's rules: fresh, else counted now if the
    budget allows, else the last known count, else 0)."""
    wanted = list(dict.fromkeys(wanted))
    if not wanted:
        return {}
    families = {COUNTED[kind].family for kind, _ in wanted}
    current = {family: await generation(ctx.state, ctx.account, family) for family in sorted(families)}
    now = time.time()
    kept = await ctx.state.get_many([_key(ctx, counting) for counting in wanted])
    known = {counting: orjson.loads(raw) for counting, raw in zip(wanted, kept) if raw is not None}
    due = [(kind, i) for kind, i in wanted if not _fresh(known.get((kind, i)), current[COUNTED[kind].family], now)]
    by_kind = {kind: [i for k, i in due if k == kind] for kind in COUNTED}
    read = await asyncio.gather(*(_count_while_free(ctx, kind, ids) for kind, ids in by_kind.items() if ids))
    for counted in read:
        for (kind, resource_id), count in counted.items():
            entry = {"count": count, "at": now, "generation": current[COUNTED[kind].family]}
            known[(kind, resource_id)] = entry
            await ctx.state.put(_key(ctx, (kind, resource_id)), orjson.dumps(entry), COUNT_KEPT)
    return {counting: int(known[counting]["count"]) if counting in known else UNKNOWN for counting in wanted}


async def _count_while_free(ctx: Context, kind: str, ids: list[str]) -> dict[Counting, int]:
    """Count the resources of one kind, `at_once` at a time, while the budget is free now."""
    counted: dict[Counting, int] = {}
    size = COUNTED[kind].at_once
    for start in range(0, len(ids), size):
        outcomes = await asyncio.gather(*(_count_one(ctx, kind, i) for i in ids[start : start + size]))
        counted |= {(kind, i): count for i, (count, _) in zip(ids[start:], outcomes) if count is not None}
        if not all(go_on for _, go_on in outcomes):
            break
    return counted


async def _count_one(ctx: Context, kind: str, resource_id: str) -> tuple[int | None, bool]:
    """The count (None: not read) and whether counting others may go on."""
    counted = COUNTED[kind]
    call = ctx.call("GET", counted.path, path_params={"id": resource_id}, query=counted.query)
    try:
        reply = await ctx.send(replace(call, may_wait=False))
    except UpstreamThrottled:
        return None, False  # the budget is spent: the others keep their last known count
    except UpstreamRejected as rejected:
        if rejected.status == 404:
            return 0, True  # deleted since it was listed: it holds (or reached) nobody
        log.warning("count_unread", kind=kind, status=rejected.status)
        return None, False  # a refusal for the key (a missing scope, say) would repeat
    except UpstreamError as failure:
        log.warning("count_unread", kind=kind, error=type(failure).__name__)
        return None, False  # upstream (or the shared budget) is unwell: do not pile on
    count = (((reply.document or {}).get("data") or {}).get("attributes") or {}).get(counted.attribute)
    if isinstance(count, int) and not isinstance(count, bool) and count >= 0:
        return count, True
    return None, True


def _fresh(known: dict[str, Any] | None, current: int, now: float) -> bool:
    return known is not None and known.get("generation") == current and now - float(known.get("at", 0)) < COUNT_FRESH


def _key(ctx: Context, counting: Counting) -> str:
    kind, resource_id = counting
    return f"{COUNTS}{ctx.account}:{kind}:{resource_id}"
