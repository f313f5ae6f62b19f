"""Legacy `$`-property dictionaries → new-API profile attributes (hazard 3).

Clients send `email`/`$email`, `id`/`$id` and `phone_number`/`$phone_number` alike, and
`$exchange_id` (the `_kx` of Klaviyo's links) or `_kx` itself. Anything that is not a
special property stays a custom property.

Email addresses are normalised the same way on every path the proxy has (here, the
identifier arrays and every email parameter): surrounding blanks trimmed, lower-cased
(`normal_email`). Klaviyo treats addresses case-insensitively; sending one spelling
keeps lookups and writes about the same person in agreement.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Mapping

from proxy.newapi.emails import normal_email

IDENTIFIERS = ("email", "phone_number", "external_id", "_kx")

_SPECIAL = {
    "$email": "email",
    "email": "email",
    "$phone_number": "phone_number",
    "phone_number": "phone_number",
    "$id": "external_id",
    "id": "external_id",
    "$exchange_id": "_kx",
    "_kx": "_kx",
    "$first_name": "first_name",
    "$last_name": "last_name",
    "$organization": "organization",
    "$title": "title",
    "$image": "image",
    "$locale": "locale",
}
# Legacy location properties → fields of the profile's `location` (both directions).
LOCATION = {
    "$address1": "address1",
    "$address2": "address2",
    "$city": "city",
    "$region": "region",
    "$zip": "zip",
    "$country": "country",
    "$timezone": "timezone",
    "$latitude": "latitude",
    "$longitude": "longitude",
}
_NUMBER_ALLOWED = {"latitude", "longitude"}
# What the new API accepts as an email address and as a phone number (E.164).
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
E164 = re.compile(r"\+[1-9]\d{6,14}")
_CHECKED = {"email": EMAIL, "phone_number": E164}
# A value kept under `unusable_<field>` when the new API would refuse it in its field.
UNUSABLE_PREFIX = "unusable_"


@dataclass(frozen=True, slots=True)
class Degraded:
    """A field the new API would refuse, kept as a custom property instead."""

    field: str  # the new-API field, e.g. "phone_number"
    moved_to: str  # the custom property that now holds the value


def profile_attributes(
    properties: Mapping[str, Any], ip: str | None = None, special: Mapping[str, str] = _SPECIAL
) -> dict[str, Any]:
    attributes: dict[str, Any] = {}
    location: dict[str, Any] = {}
    custom: dict[str, Any] = {}
    for name, value in properties.items():
        target = attributes if name in special else location if name in LOCATION else None
        field = special.get(name) or LOCATION.get(name)
        if target is None or isinstance(value, (list, dict)):
            custom[name] = value  # not a special property, or a value no profile field can hold
        else:
            target[field] = _field_value(field, value)
    if ip:
        location["ip"] = ip
    if location:
        attributes["location"] = location
    if custom:
        attributes["properties"] = custom
    return attributes


def without_aliases(*names: str) -> dict[str, str]:
    """The special properties minus some spellings (which then stay custom properties)."""
    return {name: field for name, field in _SPECIAL.items() if name not in names}


def _field_value(field: str, value: Any) -> Any:
    """Profile fields are strings (coordinates may be numbers); legacy clients sent numbers too."""
    if isinstance(value, str):
        return normal_email(value) if field == "email" else value.strip() if field == "phone_number" else value
    if value is None:
        return value
    if field in _NUMBER_ALLOWED and isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    return str(value).lower() if isinstance(value, bool) else str(value)


def keep_usable(attributes: dict[str, Any]) -> list[Degraded]:
    """Move an email or phone number the new API would refuse out of its field into a
    custom property, so that one bad field does not lose the whole write (the legacy API
    kept whatever decoded). Changes `attributes`; says what moved."""
    degraded = []
    for field, pattern in _CHECKED.items():
        value = attributes.get(field)
        if value == "":
            del attributes[field]  # nothing to keep, and the new API refuses an empty one
        if not value or pattern.fullmatch(value):
            continue
        custom = attributes.setdefault("properties", {})
        moved_to = free_name(custom, UNUSABLE_PREFIX + field)
        custom[moved_to] = attributes.pop(field)
        degraded.append(Degraded(field, moved_to))
    return degraded


def free_name(properties: Mapping[str, Any], name: str) -> str:
    """`name`, or `name_2`, `name_3`… when the client already uses it."""
    candidate, number = name, 1
    while candidate in properties:
        number += 1
        candidate = f"{name}_{number}"
    return candidate


def add_exchange_id(attributes: dict[str, Any], payload: Mapping[str, Any]) -> None:
    """A track or identify payload's top-level `$exchange_id` is the profile's `_kx`,
    unless its properties already name one."""
    exchange_id = payload.get("$exchange_id")
    if isinstance(exchange_id, str) and exchange_id.strip() and "_kx" not in attributes:
        attributes["_kx"] = exchange_id.strip()


def has_identifier(attributes: Mapping[str, Any]) -> bool:
    return any(map(attributes.get, IDENTIFIERS))
