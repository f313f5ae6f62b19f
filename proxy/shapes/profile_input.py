"""Legacy `$`-property dictionaries → new-API profile attributes (hazard 3).

Clients send `email`/`$email`, `id`/`$id` and `phone_number`/`$phone_number` alike.
Anything that is not a special property stays a custom property.
"""

from __future__ import annotations

from typing import Any, Mapping

IDENTIFIERS = ("email", "phone_number", "external_id")

_SPECIAL = {
    "$email": "email",
    "email": "email",
    "$phone_number": "phone_number",
    "phone_number": "phone_number",
    "$id": "external_id",
    "id": "external_id",
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


def profile_attributes(properties: Mapping[str, Any], ip: str | None = None) -> dict[str, Any]:
    attributes: dict[str, Any] = {}
    location: dict[str, Any] = {}
    custom: dict[str, Any] = {}
    for name, value in properties.items():
        target = attributes if name in _SPECIAL else location if name in LOCATION else None
        field = _SPECIAL.get(name) or LOCATION.get(name)
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


def _field_value(field: str, value: Any) -> Any:
    """Profile fields are strings (coordinates may be numbers); legacy clients sent numbers too."""
    if value is None or isinstance(value, str):
        return value
    if field in _NUMBER_ALLOWED and isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    return str(value).lower() if isinstance(value, bool) else str(value)


def has_identifier(attributes: Mapping[str, Any]) -> bool:
    return any(attributes.get(name) for name in IDENTIFIERS)
