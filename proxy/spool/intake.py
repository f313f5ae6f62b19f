"""How a track or identify write becomes a spool record instead of being sent.

The spool stores the single-call body the handler would have sent, with the kind the
call's operation names. A spooled event is stamped with the moment the proxy received it
(when the caller gave no time), because Klaviyo would otherwise date it at delivery.
"""

from __future__ import annotations

from typing import Any

import orjson

from proxy.shapes.timefmt import iso_from_unix
from proxy.spool.records import EVENT, PROFILE, Accepted

# The single-call writes the spool can carry, by the path they would have been sent to.
SPOOLED_KINDS = {"/api/events": EVENT, "/client/events": EVENT, "/api/profile-import": PROFILE, "/client/profiles": PROFILE}


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
