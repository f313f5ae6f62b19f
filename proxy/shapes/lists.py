"""Legacy list objects (legacy contract §2.4) from JSON:API `list` and `segment`
resources, and the new-API body that writes list members.

v2 speaks of `list_id`/`list_name` and ISO-8601 times with `Z`; the old v1 list object
(`proxy.shapes.v1_list`) says `id`/`name`, `"YYYY-MM-DD HH:MM:SS"` and covers segments too.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from proxy.shapes.included import Included
from proxy.shapes.timefmt import legacy_iso


def list_summary(resource: Mapping[str, Any], included: Included = {}) -> dict[str, Any]:
    return {"list_id": resource["id"], "list_name": _attributes(resource).get("name") or ""}


def new_list_id(resource: Mapping[str, Any], included: Included = {}) -> dict[str, Any]:
    """The answer to a list creation: only the new list's id."""
    return {"list_id": resource["id"]}


def list_detail(resource: Mapping[str, Any], included: Included = {}) -> dict[str, Any]:
    """No id: the legacy answer never carried it. Lists have no folders any more."""
    attributes = _attributes(resource)
    return {
        "list_name": attributes.get("name") or "",
        "folder_name": "",
        "created": legacy_iso(attributes.get("created")),
        "updated": legacy_iso(attributes.get("updated")),
    }


def members_body(profile_ids: Iterable[str]) -> dict[str, Any]:
    """The ids-only body of the list relationship writes."""
    return {"data": [{"type": "profile", "id": profile_id} for profile_id in profile_ids]}


def _attributes(resource: Mapping[str, Any]) -> Mapping[str, Any]:
    return resource.get("attributes") or {}
