"""The upstream as one mapping entry may use it: only the calls its `calls:` declares.

The engine builds one `EntryClient` per request and every upstream call of that request
goes through it, so an entry cannot do more than it says. A call it does not declare is
a disagreement between the table and the code: the engine logs it and answers the legacy
500 (the test suite fails any test whose request logged one).
"""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass

from proxy.mapping.table import Entry
from proxy.upstream.client import Call, Credentials, Reply, UpstreamClient


class UndeclaredCall(Exception):
    """A runner tried a new-API call its mapping entry does not declare."""

    def __init__(self, entry: Entry, call: Call):
        super().__init__(f"{entry.source}: {call.operation} is not declared in calls:")
        self.entry = entry
        self.operation = call.operation


@dataclass(frozen=True, slots=True)
class EntryClient:
    upstream: UpstreamClient
    entry: Entry
    credentials: Credentials

    def send(self, call: Call, credentials: Credentials | None = None) -> Awaitable[Reply]:
        """The upstream's sending of a declared call, for the caller to await (a plain
        call: no coroutine of its own on every upstream call's way)."""
        self.check(call)
        return self.upstream.send(call, credentials or self.credentials)

    def check(self, call: Call) -> None:
        """Refuse a call the entry does not declare (also before a write is spooled)."""
        if not self.entry.declares(call.method, call.path):
            raise UndeclaredCall(self.entry, call)
