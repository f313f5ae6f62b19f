"""Legacy person object (legacy contract §2.1) from a JSON:API `profile`.

Real captures always carry the 23 standard keys, "" when unset, and the custom
properties flattened alongside them. `$image` and `$locale`, which identify and PUT write
but which are not among the 23, are shown when the profile has them.
"""

from __future__ import annotations

from typing import Any, Mapping

from proxy.shapes.included import Included
from proxy.shapes.profile_input import LOCATION
from proxy.shapes.timefmt import legacy_datetime

_ATTRIBUTES = {
    "$email": "email",
    "$first_name": "first_name",
    "$last_name": "last_name",
    "$phone_number": "phone_number",
    "$title": "title",
    "$organization": "organization",
    "$id": "external_id",
}
# Written by identify and PUT; shown only when set, the 23 standard keys staying the same.
_WHEN_SET = {"$image": "image", "$locale": "locale"}


def legacy_person(resource: Mapping[str, Any], included: Included = {}) -> dict[str, Any]:
    attributes = resource.get("attributes") or {}
    location = attributes.get("location") or {}
    person: dict[str, Any] = {"object": "person", "id": resource["id"]}
    for legacy, new in _ATTRIBUTES.items():
        person[legacy] = _or_blank(attributes.get(new))
    for legacy, new in LOCATION.items():
        person[legacy] = _or_blank(location.get(new))
    person["email"] = person["$email"]
    person["first_name"] = person["$first_name"]
    person["last_name"] = person["$last_name"]
    person["created"] = legacy_datetime(attributes.get("created"))
    person["updated"] = legacy_datetime(attributes.get("updated"))
    for legacy, new in _WHEN_SET.items():
        if attributes.get(new):
            person[legacy] = attributes[new]
    for name, value in (attributes.get("properties") or {}).items():
        person.setdefault(name, value)
    return person


def _or_blank(value: Any) -> Any:
    return "" if value is None else value


def profile_id(resource: Mapping[str, Any], included: Included = {}) -> dict[str, Any]:
    """The v2 people lookups' answer: only the person's id."""
    return {"id": resource["id"]}
