"""Which upstream calls carry a run of spooled writes (pure: no I/O).

With a private key, a run long enough to pay off goes into bulk jobs: events into
`POST /api/event-bulk-create-jobs` (≤1,000 events), profiles into
`POST /api/profile-bulk-import-jobs` (≤10,000 profiles), both under 5 MB. "Long enough"
is read off the tiers: a bulk call spends the bulk operation's budget once, single calls
spend the single operation's budget once each, so a run is batched when it holds more
writes than the single operation allows per bulk call in the steady window. Without a
private key there is no bulk operation (the client bulk endpoint is for browsers), so
each write is one call to `/client/events` or `/client/profiles`.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from proxy.spool.records import EVENT, PROFILE, Stored
from proxy.upstream.client import Call
from proxy.upstream.tiers import TierTable

# Klaviyo caps bulk payloads at 5 MB; leave room for the envelope.
MAX_BULK_BYTES = 4_500_000


@dataclass(frozen=True)
class Route:
    single_private: str
    single_public: str
    bulk: str
    bulk_limit: int


ROUTES = {
    EVENT: Route("/api/events", "/client/events", "/api/event-bulk-create-jobs", 1000),
    PROFILE: Route("/api/profile-import", "/client/profiles", "/api/profile-bulk-import-jobs", 10_000),
}


@dataclass(frozen=True, slots=True)
class Delivery:
    call: Call
    stored: tuple[Stored, ...]
    kind: str
    bulk: bool

    @property
    def ids(self) -> list[str]:
        return [item.id for item in self.stored]


def bulk_thresholds(tiers: TierTable) -> dict[str, int]:
    """Per kind: the smallest run worth a bulk call."""
    thresholds = {}
    for kind, route in ROUTES.items():
        single = tiers.limits[f"POST {route.single_private}"].steady
        bulk = tiers.limits[f"POST {route.bulk}"].steady
        thresholds[kind] = math.ceil(single / bulk)
    return thresholds


def plan(run: Sequence[Stored], kind: str, private: bool, threshold: int) -> list[Delivery]:
    """The calls for a run of one account's writes of one kind, in order."""
    route = ROUTES[kind]
    if private and len(run) >= threshold:
        return [_bulk(kind, chunk) for chunk in _chunks(run, route.bulk_limit)]
    path = route.single_private if private else route.single_public
    return [Delivery(Call("POST", path, body=_body(item)), (item,), kind, bulk=False) for item in run]


def singles(delivery: Delivery, private: bool) -> list[Delivery]:
    """A bulk delivery's writes one call each, to find the ones upstream refuses."""
    return plan(delivery.stored, delivery.kind, private, threshold=len(delivery.stored) + 1)


def _chunks(run: Sequence[Stored], limit: int) -> Iterator[Sequence[Stored]]:
    start, size = 0, 0
    for index, item in enumerate(run):
        if index - start == limit or (size + len(item.item.body) > MAX_BULK_BYTES and index > start):
            yield run[start:index]
            start, size = index, 0
        size += len(item.item.body)
    if start < len(run):
        yield run[start:]


def _bulk(kind: str, chunk: Sequence[Stored]) -> Delivery:
    bodies = [_body(item) for item in chunk]
    document = bulk_events(bodies) if kind == EVENT else bulk_profiles(bodies)
    return Delivery(Call("POST", ROUTES[kind].bulk, body=document), tuple(chunk), kind, bulk=True)


def bulk_events(bodies: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """`EventCreateQueryV2` bodies → one `EventsBulkCreateJob`: an entry per event, each
    with its own profile, so no event's profile attributes leak into another's."""
    entries = []
    for body in bodies:
        attributes = dict(body["data"]["attributes"])
        profile = attributes.pop("profile")
        event = {"type": "event", "attributes": attributes}
        entries.append({"type": "event-bulk-create", "attributes": {"profile": profile, "events": {"data": [event]}}})
    return {"data": {"type": "event-bulk-create-job", "attributes": {"events-bulk-create": {"data": entries}}}}


def bulk_profiles(bodies: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Profile upsert bodies → one `ProfileImportJobCreateQuery`, applied in order."""
    profiles = [body["data"] for body in bodies]
    return {"data": {"type": "profile-bulk-import-job", "attributes": {"profiles": {"data": profiles}}}}


def _body(item: Stored) -> dict[str, Any]:
    return orjson.loads(item.item.body)
