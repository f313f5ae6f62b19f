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
}
_LOCATION = {
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
_STRING_FIELDS = {"email", "phone_number", "external_id"}


def profile_attributes(properties: Mapping[str, Any], ip: str | None = None) -> dict[str, Any]:
    attributes: dict[str, Any] = {}
    location: dict[str, Any] = {}
    custom: dict[str, Any] = {}
    for name, value in properties.items():
        if name in _SPECIAL:
            field = _SPECIAL[name]
            attributes[field] = str(value) if field in _STRING_FIELDS and value is not None else value
        elif name in _LOCATION:
            location[_LOCATION[name]] = value
        else:
            custom[name] = value
    if ip:
        location["ip"] = ip
    if location:
        attributes["location"] = location
    if custom:
        attributes["properties"] = custom
    return attributes


def has_identifier(attributes: Mapping[str, Any]) -> bool:
    return any(attributes.get(name) for name in IDENTIFIERS)
