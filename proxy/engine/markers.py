"""Where a `members/all` or `exclusions/all` batch ended, behind the opaque integer
`marker` the legacy client sends back for the next batch.

Markers live in the request's state store (`ctx.state`), so the next batch may be asked
of any worker or replica, and after a restart. A marker is a random exact JSON integer,
valid for MARKER_TTL after the batch that gave it; one that is gone (expired, or never
given) is refused like an invalid one. Loading does not use it up, so a client retrying
a batch gets the same batch again.
"""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass

import orjson

from proxy.engine.state import MARKERS, KeyValue

# Legacy clients include JavaScript ones: keep markers exact as JSON numbers there.
MAX_MARKER = 2**53 - 1
# An ETL walk of a large list may pause for hours between batches; a day covers the slowest export.
MARKER_TTL = 24 * 3600.0


@dataclass(frozen=True, slots=True)
class Resume:
    route: str  # the legacy route template the marker was given by
    group_id: str
    kind: str  # "list" or "segment"
    step: int  # which of the route's upstream sources the walk is in
    cursor: str | None  # that source's page[cursor]; None: its first page
    account: str = ""  # whose walk it is: another key cannot continue it


async def save(values: KeyValue, resume: Resume) -> int:
    while True:  # a collision among 2**53 is all but impossible; never overwrite one anyway
        marker = 1 + secrets.randbelow(MAX_MARKER)
        if await values.put_new(f"{MARKERS}{marker}", orjson.dumps(asdict(resume)), MARKER_TTL):
            return marker


async def load(values: KeyValue, marker: int) -> Resume | None:
    saved = await values.get(f"{MARKERS}{marker}")
    return Resume(**orjson.loads(saved)) if saved else None
