"""A legacy track payload → a new-API `EventCreateQueryV2` body.

The new API silently merges events of one profile and metric within the same second
unless `unique_id` differs (hazard 4), so every event carries one: the caller's
`$event_id`, else a hash of the payload and the moment we received it.
"""

from __future__ import annotations

import hashlib
from typing import Any, Mapping

import orjson

from proxy.legacy.errors import LegacyInputError
from proxy.shapes.profile_input import has_identifier, profile_attributes
from proxy.shapes.timefmt import iso_from_unix

TRACK_ONCE = "__track_once__"


class InvalidPayload(LegacyInputError):
    pass


def event_body(payload: Mapping[str, Any], received_at_ns: int) -> dict[str, Any]:
    name = payload.get("event")
    if not isinstance(name, str) or not name.strip():
        raise InvalidPayload("event name missing")
    customer = payload.get("customer_properties") or {}
    properties = payload.get("properties") or {}
    if not isinstance(customer, dict) or not isinstance(properties, dict):
        raise InvalidPayload("customer_properties and properties must be objects")
    profile = profile_attributes(customer, ip=_ip(payload))
    if not has_identifier(profile):
        raise InvalidPayload("customer_properties need $email, $phone_number or $id")

    event_properties = {k: v for k, v in properties.items() if k not in ("$event_id", "$value", TRACK_ONCE)}
    attributes: dict[str, Any] = {
        "properties": event_properties,
        "metric": {"data": {"type": "metric", "attributes": {"name": name}}},
        "profile": {"data": {"type": "profile", "attributes": profile}},
        "unique_id": _unique_id(payload, name, received_at_ns),
    }
    time = _time(payload.get("time"))
    if time is not None:
        attributes["time"] = time
    value = _value(properties.get("$value"))
    if value is not None:
        attributes["value"] = value
    return {"data": {"type": "event", "attributes": attributes}}


def _unique_id(payload: Mapping[str, Any], name: str, received_at_ns: int) -> str:
    properties = payload.get("properties") or {}
    event_id = properties.get("$event_id")
    if event_id not in (None, ""):
        return str(event_id)
    if properties.get(TRACK_ONCE):
        # The same id for every call makes the new API keep only the first event.
        return "track-once-" + hashlib.sha256(name.encode()).hexdigest()[:24]
    digest = hashlib.sha256(orjson.dumps(payload, option=orjson.OPT_SORT_KEYS))
    digest.update(received_at_ns.to_bytes(8, "big"))
    return digest.hexdigest()[:32]


def _time(value: Any) -> str | None:
    if value in (None, ""):
        return None
    try:
        return iso_from_unix(float(value))
    except (TypeError, ValueError, OverflowError, OSError):
        raise InvalidPayload("time must be Unix seconds") from None


def _value(value: Any) -> float | int | None:
    if value in (None, ""):
        return None
    if isinstance(value, bool):
        raise InvalidPayload("$value must be a number")
    if isinstance(value, (int, float)):
        return value
    try:
        return float(value)
    except (TypeError, ValueError):
        raise InvalidPayload("$value must be a number") from None


def _ip(payload: Mapping[str, Any]) -> str | None:
    ip = payload.get("ip")
    return ip if isinstance(ip, str) and ip else None
