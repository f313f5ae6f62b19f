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
        """A header's value, whatever the case of its name. The name as given is tried
        first (most are asked for as they were sent); else the names are compared lowered,
        one by one: a request carries a few headers and is asked for few, mostly one it
        may not carry (`Authorization` on a public call), so folding them all would cost
        more than it saves."""
        value = self.headers.get(name)
        if value is not None:
            return value
        lowered = name.lower()
        for key, value in self.headers.items():
            if key.lower() == lowered:
                return value  # of names equal but for case, the first
        return None


@dataclass(frozen=True, slots=True)
class UpstreamResponse:
    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    _folded: dict[str, str] | None = field(default=None, init=False, repr=False, compare=False)

    def header(self, name: str) -> str | None:
        """A header's value, whatever the case of its name. The name as given is tried
        first (most are asked for as they were sent); else the answer's names, lowered
        once: the governor asks each answer for four, which a server may spell in any case
        or not send."""
        value = self.headers.get(name)
        if value is not None:
            return value
        folded = self._folded
        if folded is None:
            folded = {}
            for key, value in self.headers.items():
                folded.setdefault(key.lower(), value)  # of names equal but for case, the first
            object.__setattr__(self, "_folded", folded)
        return folded.get(name.lower())
