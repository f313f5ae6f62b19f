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
    _folded: dict[str, str] | None = field(default=None, init=False, repr=False, compare=False)

    def header(self, name: str) -> str | None:
        """A header's value, whatever the case of its name (`header`)."""
        value = self.headers.get(name)
        return value if value is not None else header(self, name)


@dataclass(frozen=True, slots=True)
class UpstreamResponse:
    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    _folded: dict[str, str] | None = field(default=None, init=False, repr=False, compare=False)

    def header(self, name: str) -> str | None:
        """A header's value, whatever the case of its name (`header`)."""
        value = self.headers.get(name)
        return value if value is not None else header(self, name)


def header(message: UpstreamRequest | UpstreamResponse, name: str) -> str | None:
    """A header's value, whatever the case of its name. The name as given is tried first
    (most are asked for as they were sent); else the message's names, lowered once: the
    governor asks each answer for four, which a server may spell in any case or not send."""
    folded = message._folded
    if folded is None:
        folded = {}
        for key, value in message.headers.items():
            folded.setdefault(key.lower(), value)  # of names equal but for case, the first
        object.__setattr__(message, "_folded", folded)
    return folded.get(name.lower())
