"""Bulk event creation: POST /api/event-bulk-create-jobs.

Every event is recorded exactly as POST /api/events records it (the same profile
matching and the same `unique_id` de-duplication, through `create_event` itself). The
spec says nothing of a job with one bad event and gives the job no id or status to read,
so the sandbox takes the stricter reading: the request is refused whole, pointing into
it, when any one event would be refused alone (the events are first rehearsed on an
empty scratch account, so a refusal stores nothing). An accepted job is recorded after
its 202, like Klaviyo's (`proxy.sandbox.jobs`): a read right after it sees none of its
events yet. An event that the account's state refuses by then (its profile deleted in
between) is dropped, as nothing could report it.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from proxy.sandbox import errors
from proxy.sandbox.errors import ApiError
from proxy.sandbox.ids import IdFactory
from proxy.sandbox.lookup import existing
from proxy.sandbox.payload import attributes_of, member, resource_data
from proxy.sandbox.resources.events import create_event
from proxy.sandbox.routing import Call, Reply, RouteTable
from proxy.sandbox.store import Account, Profile

ROUTES = RouteTable()

JOB_TYPE = "event-bulk-create-job"
ENTRY_TYPE = "event-bulk-create"
ENTRIES = "/data/attributes/events-bulk-create/data"
MAX_EVENTS = 1000
SINGLE_PROFILE = "/data/attributes/profile"


@ROUTES.route("POST", "/api/event-bulk-create-jobs")
def bulk_create_events(call: Call) -> Reply:
    events = list(_events(call.body))
    if not 0 < len(events) <= MAX_EVENTS:
        raise errors.invalid(f"Send 1 to {MAX_EVENTS} events per request.", pointer=ENTRIES)
    _rehearse(call, events)

    def run(now: float) -> None:
        for _, _, body in events:
            try:
                create_event(replace(call, body=body, now=now))
            except ApiError:
                continue

    call.account.jobs.defer(call.now, run)
    return Reply(202)


def _events(body: Any) -> Iterator[tuple[int, int, dict[str, Any]]]:
    """(entry index, event index, the event as a POST /api/events body) for every event."""
    attributes = attributes_of(resource_data(body, JOB_TYPE))
    wrapper = member(attributes, "events-bulk-create", "/data/attributes", dict, required=True)
    entries = member(wrapper, "data", "/data/attributes/events-bulk-create", list, required=True)
    for index, entry in enumerate(entries):
        at = f"{ENTRIES}/{index}"
        if not isinstance(entry, dict) or entry.get("type") != ENTRY_TYPE:
            raise errors.invalid(f"Each entry must be an {ENTRY_TYPE!r} resource.", pointer=at)
        entry_attributes = member(entry, "attributes", at, dict, required=True)
        profile = member(entry_attributes, "profile", f"{at}/attributes", dict, required=True)
        listed = member(entry_attributes, "events", f"{at}/attributes", dict, required=True)
        for position, event in enumerate(member(listed, "data", f"{at}/attributes/events", list, required=True)):
            event_at = f"{at}/attributes/events/data/{position}"
            if not isinstance(event, dict) or event.get("type") != "event":
                raise errors.invalid("Each event must be an 'event' resource.", pointer=event_at)
            event_attributes = member(event, "attributes", event_at, dict, required=True)
            yield index, position, {"data": {"type": "event", "attributes": {**event_attributes, "profile": profile}}}


def _rehearse(call: Call, events: list[tuple[int, int, dict[str, Any]]]) -> None:
    """Record every event on a scratch account that knows only the profile ids the
    request names, so any refusal surfaces before the real account changes."""
    scratch = Account(public_key=call.account.public_key, private_keys=())
    rehearsal = replace(call, account=scratch, ids=IdFactory(random.Random(0)))
    for index, position, body in events:
        _known_profile(call.account, scratch, body, index)
        try:
            create_event(replace(rehearsal, body=body))
        except ApiError as refusal:
            raise replace(refusal, pointer=_rebased(refusal.pointer, index, position)) from None


def _known_profile(account: Account, scratch: Account, body: dict[str, Any], index: int) -> None:
    profile_id = body["data"]["attributes"]["profile"].get("data", {}).get("id")
    if not isinstance(profile_id, str) or scratch.profiles.get(profile_id) is not None:
        return
    known = existing(account.profiles.get, "profile", profile_id, pointer=f"{ENTRIES}/{index}/attributes/profile/data/id")
    scratch.profiles.add(Profile(id=profile_id, created=known.created, updated=known.updated))


def _rebased(pointer: str | None, index: int, position: int) -> str:
    """A pointer into a single-event body, moved to where that member sits in the bulk body."""
    pointer = pointer or "/data"
    if pointer.startswith(SINGLE_PROFILE):
        return f"{ENTRIES}/{index}/attributes/profile{pointer.removeprefix(SINGLE_PROFILE)}"
    return f"{ENTRIES}/{index}/attributes/events/data/{position}{pointer.removeprefix('/data')}"
