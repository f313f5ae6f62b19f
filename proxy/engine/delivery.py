"""How a fire-and-forget write (track, identify) leaves the proxy: the engine is given one
`Delivery` and hands it to every request through the context.

- `SendNow`: the call goes through the request's client and the legacy answer waits for
  Klaviyo's; it is also explain's dry run, whose client has a transport that sends nothing.
- a spool (`proxy.spool.intake.SpoolDelivery`) stores the write durably instead, for the
  delivery worker.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Protocol

from proxy.engine.declared import EntryClient
from proxy.upstream.client import Call, Credentials


class Delivery(Protocol):
    def deliver(self, client: EntryClient, call: Call, credentials: Credentials, received_at_ns: int) -> Awaitable[object]:
        """Send or durably store one single-call write; what it returns settles only once
        that is done."""


class SendNow:
    def deliver(self, client: EntryClient, call: Call, credentials: Credentials, received_at_ns: int) -> Awaitable[object]:
        return client.send(call, credentials)  # the sending itself, awaited by the caller: no layer of its own
