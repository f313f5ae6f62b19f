"""Legacy timeline event (legacy contract §2.3) from a JSON:API `event` and its includes."""

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
        "timestamp": int(attributes.get("timestamp") or 0),
        "datetime": legacy_event_datetime(attributes.get("datetime")),
        "event_properties": dict(attributes.get("event_properties") or {}),
        "person": legacy_person(profile, included) if profile else {"object": "person"},
    }
