"""Legacy v1 list object (legacy contract §2.4) from a JSON:API `list` or `segment`: the
item of the old `GET /api/v1/lists` and of a campaign's `lists`/`excluded_lists`.

The new API has no folders (tags replaced them), so `folder` is always null.
`person_count` is an integer, as legacy readers sum it: the caller passes the group's
member count (`proxy.engine.counts` says where it comes from and what is answered when
no count can be had).
"""

from __future__ import annotations

from typing import Any, Mapping

from proxy.shapes.timefmt import legacy_datetime


def legacy_v1_list(resource: Mapping[str, Any], person_count: int) -> dict[str, Any]:
    """Key order of real captures."""
    attributes = resource.get("attributes") or {}
    return {
        "object": "list",
        "id": resource["id"],
        "name": attributes.get("name") or "",
        "list_type": "segment" if resource.get("type") == "segment" else "list",
        "folder": None,
        "created": legacy_datetime(attributes.get("created")),
        "updated": legacy_datetime(attributes.get("updated")),
        "person_count": person_count,
    }


def with_person_count(shaped: Mapping[str, Any], person_count: int) -> dict[str, Any]:
    """A legacy list object with its member count filled in (key order kept)."""
    return {**shaped, "person_count": person_count}
