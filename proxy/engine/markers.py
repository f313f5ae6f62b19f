"""Where a `members/all` or `exclusions/all` batch ended, behind the opaque integer
`marker` the legacy client sends back for the next batch.

Markers live in the request's state store for MARKER_TTL; one that is gone (expired,
or made by a process whose store is not shared) is refused like an invalid one.
"""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass

import orjson

from proxy.engine.state import StateStore

# Legacy clients include JavaScript ones: keep markers exact as JSON numbers there.
MAX_MARKER = 2**53 - 1
# A legacy client pages a group in one sitting; a day covers the slowest export.
MARKER_TTL = 24 * 3600.0


@dataclass(frozen=True, slots=True)
class Resume:
    route: str  # the legacy route template the marker was given by
    group_id: str
    kind: str  # "list" or "segment"
    step: int  # which of the route's upstream sources the walk is in
    cursor: str | None  # that source's page[cursor]; None: its first page


async def save(state: StateStore, resume: Resume) -> int:
    marker = 1 + secrets.randbelow(MAX_MARKER)
    await state.put(_key(marker), orjson.dumps(asdict(resume)).decode(), MARKER_TTL)
    return marker


async def load(state: StateStore, marker: int) -> Resume | None:
    """Loading does not use the marker up: a client retrying a batch gets the same one."""
    stored = await state.get(_key(marker))
    return Resume(**orjson.loads(stored)) if stored is not None else None


def _key(marker: int) -> str:
    return f"marker:{marker}"
