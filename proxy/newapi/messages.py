"""Plain data passed across the transport seam.

Both the upstream client and the sandbox speak these types, so the sandbox can be
mounted in-process (no sockets) or served over HTTP with the same code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

Query = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class UpstreamRequest:
    method: str
    path: str  # already percent-encoded, no query string, e.g. "/api/profiles/01H%2F"
    query: Query = ()
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes | None = None
    # False for a read the legacy answer can do without (a member count): the governor
    # sends it only if the rate budget is free now, and it is never retried.
    may_wait: bool = True

    def header(self, name: str) -> str | None:
        return header(self.headers, name)


@dataclass(frozen=True, slots=True)
class UpstreamResponse:
    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        return header(self.headers, name)


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A header's value, whatever the case of its name (the name as given is tried first:
    every upstream call asks for several, most spelled as they were sent)."""
    value = headers.get(name)
    if value is not None:
        return value
    lowered = name.lower()
    for key, value in headers.items():
        if key.lower() == lowered:
            return value
    return None
