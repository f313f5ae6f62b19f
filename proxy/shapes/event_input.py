"""A legacy track payload → a new-API `EventCreateQueryV2` body.

The legacy API answered `1` and kept whatever decoded, so one unusable field does not
lose the event: a `$value` that is not a number the new API can hold exactly, a `time`
it refuses (not Unix seconds, before 1990, more than a year ahead), an email or phone
number it would refuse beside another identifier — each is moved to a custom property
(`unusable_<field>`) and named in `degraded` for the caller to log. Only a payload with
no event name or no usable identifier is refused.

The new API silently merges events of one profile and metric within the same second
unless `unique_id` differs (hazard 4), so every event carries one: the caller's
`$event_id`, else a hash of the payload and the event's time. The legacy API
de-duplicated on `$event_id`, which defaulted to the event time; so a payload with its
own `time` gets the same id however often it is sent (a client's retry after an
ambiguous failure is the same event), and one without gets the second it was received in.
The caller's `$event_id` also stays in the event's properties: the new API never returns
`unique_id`, and legacy timelines showed the caller's `$event_id`, so the property is
where a later timeline read finds it.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Callable, Mapping

import orjson

from proxy.legacy.errors import LegacyInputError
from proxy.shapes.profile_input import (
    UNUSABLE_PREFIX,
    Degraded,
    add_exchange_id,
    free_name,
    has_identifier,
    keep_usable,
    profile_attributes,
)

TRACK_ONCE = "__track_once__"
# What the new API accepts as an event time (new-API targets §3.1).
EARLIEST = datetime(1990, 1, 1, tzinfo=timezone.utc)
LATEST_AHEAD = timedelta(days=365)
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_INTEGER = re.compile(r"[+-]?\d+")
_INT64 = (-(2**63), 2**63 - 1)


class InvalidPayload(LegacyInputError):
    pass


class _Unusable(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class TrackEvent:
    body: dict[str, Any]
    degraded: tuple[Degraded, ...]  # fields kept as custom properties instead


def event_body(payload: Mapping[str, Any], received_at_ns: int) -> TrackEvent:
    name = payload.get("event")
    if not isinstance(name, str) or not name.strip():
        raise InvalidPayload("event name missing")
    customer = payload.get("customer_properties") or {}
    properties = payload.get("properties") or {}
    if not isinstance(customer, dict) or not isinstance(properties, dict):
        raise InvalidPayload("customer_properties and properties must be objects")
    profile = profile_attributes(customer, ip=_ip(payload))
    add_exchange_id(profile, payload)
    degraded = [Degraded(f"customer_properties.{d.field}", d.moved_to) for d in keep_usable(profile)]
    if not has_identifier(profile):
        raise InvalidPayload("customer_properties need a usable $email, $phone_number, $id or $exchange_id")

    event_properties = {k: v for k, v in properties.items() if k not in ("$value", TRACK_ONCE)}
    received = received_at_ns // 10**9
    attributes: dict[str, Any] = {
        "properties": event_properties,
        "metric": {"data": {"type": "metric", "attributes": {"name": name}}},
        "profile": {"data": {"type": "profile", "attributes": profile}},
    }
    time = _keep("time", payload.get("time"), lambda raw: _time(raw, received), event_properties, degraded)
    if time is not None:
        attributes["time"] = time
    value = _keep("$value", properties.get("$value"), _value, event_properties, degraded)
    if value is not None:
        attributes["value"] = value
    attributes["unique_id"] = _unique_id(payload, name, time, received)
    return TrackEvent({"data": {"type": "event", "attributes": attributes}}, tuple(degraded))


def _keep(field: str, raw: Any, read: Callable[[Any], Any], custom: dict[str, Any], degraded: list[Degraded]) -> Any:
    """The field read for the new API, or None when absent or unusable (then kept in `custom`)."""
    if raw is None or raw == "":
        return None
    try:
        return read(raw)
    except _Unusable:
        moved_to = free_name(custom, UNUSABLE_PREFIX + field.lstrip("$"))
        custom[moved_to] = raw
        degraded.append(Degraded(field, moved_to))
        return None


def _unique_id(payload: Mapping[str, Any], name: str, time: str | None, received: int) -> str:
    properties = payload.get("properties") or {}
    event_id = properties.get("$event_id")
    if event_id not in (None, ""):
        return str(event_id)
    if properties.get(TRACK_ONCE):
        # The same id for every call makes the new API keep only the first event.
        return "track-once-" + hashlib.sha256(name.encode()).hexdigest()[:24]
    digest = hashlib.sha256(orjson.dumps(payload, option=orjson.OPT_SORT_KEYS))
    if time is None:  # the event's time is the second it was received in
        digest.update(received.to_bytes(8, "big", signed=True))
    return digest.hexdigest()[:32]


def _time(raw: Any, received: int) -> str:
    """Unix seconds → ISO 8601, if the new API would take it."""
    seconds = _number(raw)
    try:
        moment = datetime.fromtimestamp(int(seconds), timezone.utc)
    except (OverflowError, OSError, ValueError):
        raise _Unusable from None
    if not EARLIEST < moment <= datetime.fromtimestamp(received, timezone.utc) + LATEST_AHEAD:
        raise _Unusable
    return moment.strftime("%Y-%m-%dT%H:%M:%S+00:00")


def _value(raw: Any) -> int | float:
    """A number the new API holds exactly: never NaN, infinite or rounded."""
    number = _number(raw)
    if isinstance(raw, str) and Decimal(repr(number)) != Decimal(raw.strip()):
        raise _Unusable  # e.g. "0.1000000000000000000001" or 30 digits: a double would round it
    return number


def _number(raw: Any) -> int | float:
    if isinstance(raw, bool):
        raise _Unusable
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float):
        return raw  # JSON has no NaN or infinity, so a parsed float is finite
    if not isinstance(raw, str) or not _NUMBER.fullmatch(text := raw.strip()):
        raise _Unusable
    if _INTEGER.fullmatch(text) and _INT64[0] <= int(text) <= _INT64[1]:
        return int(text)
    number = float(text)
    if not math.isfinite(number):
        raise _Unusable  # "1e309"
    return number


def _ip(payload: Mapping[str, Any]) -> str | None:
    ip = payload.get("ip")
    return ip if isinstance(ip, str) and ip else None
