"""Legacy v1 list object (legacy contract §2.4) from a JSON:API `list` or `segment`.

The new API has no folders (tags replaced them), so `folder` is always null.
`person_count` is the group's `profile_count` when the read asked for it
(`additional-fields[…]=profile_count`, a 1/s operation), else null: unknown.
"""

from __future__ import annotations

from typing import Any, Mapping

from proxy.shapes.timefmt import legacy_datetime


def legacy_v1_list(resource: Mapping[str, Any]) -> dict[str, Any]:
    attributes = resource.get("attributes") or {}
    return {
        "object": "list",
        "id": resource["id"],
        "name": attributes.get("name") or "",
        "list_type": "segment" if resource.get("type") == "segment" else "list",
        "folder": None,
        "created": legacy_datetime(attributes.get("created")),
        "updated": legacy_datetime(attributes.get("updated")),
        "person_count": attributes.get("profile_count"),
    }
