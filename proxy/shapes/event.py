"""Legacy timeline event (legacy contract §2.3) from a JSON:API `event` and its includes.

Legacy events always carried `$event_id` in `event_properties`. The new API keeps the
caller's `unique_id` for de-duplication but never returns it, so an event that does not
hold one in its properties gets the event's own unique id: stable across reads.
"""

from __future__ import annotations

from typing import Any, Mapping

from proxy.shapes.included import Included, related, related_id
from proxy.shapes.person import legacy_person
from proxy.shapes.timefmt import legacy_event_datetime


def legacy_event(resource: Mapping[str, Any], included: Included) -> dict[str, Any]:
    attributes = resource.get("attributes") or {}
    metric = related(resource, "metric", included)
    profile = related(resource, "profile", included)
    return {
        "object": "event",
        "id": resource["id"],
        "uuid": attributes.get("uuid") or "",
        "event_name": ((metric or {}).get("attributes") or {}).get("name") or "",
        "statistic_id": related_id(resource, "metric") or "",
        "timestamp": _whole_seconds(attributes.get("timestamp")),
        "datetime": legacy_event_datetime(attributes.get("datetime")),
        "event_properties": {"$event_id": resource["id"], **(attributes.get("event_properties") or {})},
        "person": legacy_person(profile, included) if profile else {"object": "person"},
    }


def _whole_seconds(value: Any) -> int | float:
    """Unix seconds as the legacy integer; a number too large for JSON integers stays as given."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return 0
    whole = int(value) if value == value and abs(value) != float("inf") else 0
    return whole if -(2**63) <= whole < 2**63 else value
