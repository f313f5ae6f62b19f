"""How track and identify hand a write to the spool instead of sending it.

The app puts the running spool in `current_spool` for each request when the spool is
on; the handlers store the single-call body they would have sent. A spooled event is
stamped with the moment the proxy received it (when the caller gave no time), because
Klaviyo would otherwise date it at delivery.
"""

from __future__ import annotations

import contextvars
from typing import Any, Protocol

import orjson

from proxy.shapes.timefmt import iso_from_unix
from proxy.spool.records import EVENT, Accepted


class Intake(Protocol):
    async def accept(self, item: Accepted) -> None:
        """Return once stored durably; raise `SpoolRefused` when the write is not taken."""


current_spool: contextvars.ContextVar[Intake | None] = contextvars.ContextVar("current_spool", default=None)


def accepted(kind: str, body: dict[str, Any], token: str, received_at_ns: int) -> Accepted:
    received_at = received_at_ns / 1e9
    if kind == EVENT:
        body = _dated(body, received_at)
    return Accepted(kind, token, orjson.dumps(body), received_at)


def _dated(body: dict[str, Any], received_at: float) -> dict[str, Any]:
    attributes = body["data"]["attributes"]
    if "time" in attributes:
        return body
    return {**body, "data": {**body["data"], "attributes": {**attributes, "time": iso_from_unix(received_at)}}}
