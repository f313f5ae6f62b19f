"""A legacy `PUT /api/v1/person/{id}` → a new-API `ProfilePartialUpdateQuery` body.

Properties arrive as query or form fields, every value a string. A property the client
did not send stays as it is (missing ≠ null); only `$unset`, a JSON list of names in a
string, clears: special properties become explicit nulls, custom ones
`meta.patch_properties.unset`.
"""

from __future__ import annotations

from typing import Any, Iterable

import orjson

from proxy.legacy.errors import LegacyInputError
from proxy.shapes.profile_input import profile_attributes

UNSET = "$unset"
NOT_PROPERTIES = frozenset({"api_key"})


class InvalidUpdate(LegacyInputError):
    pass


def update_body(profile_id: str, fields: Iterable[tuple[str, Any]]) -> dict[str, Any] | None:
    """The PATCH body, or None when the request changes nothing."""
    given: dict[str, Any] = {}
    for name, value in fields:
        if name not in NOT_PROPERTIES:
            given.setdefault(name, value)  # a repeated field: the first one counts
    unset = unset_names(given.pop(UNSET, None))
    attributes = profile_attributes(given)
    cleared = profile_attributes(dict.fromkeys(unset))
    custom = list(cleared.pop("properties", {}))
    location = {**attributes.get("location", {}), **cleared.pop("location", {})}
    attributes |= cleared | ({"location": location} if location else {})
    if not attributes and not custom:
        return None
    data: dict[str, Any] = {"type": "profile", "id": profile_id, "attributes": attributes}
    if custom:
        data["meta"] = {"patch_properties": {"unset": custom}}
    return {"data": data}


def unset_names(raw: Any) -> list[str]:
    if raw in (None, ""):
        return []
    try:
        names = orjson.loads(raw) if isinstance(raw, str) else raw
    except orjson.JSONDecodeError:
        names = None
    if isinstance(names, str):
        names = [names]
    if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
        raise InvalidUpdate(f'Invalid value for {UNSET}: must be a JSON list of property names, e.g. ["plan"].')
    return names
