"""Index a JSON:API document's `included` resources for relationship lookups."""

from __future__ import annotations

from typing import Any, Mapping

Included = Mapping[tuple[str, str], Mapping[str, Any]]


def index_included(document: Mapping[str, Any] | None) -> Included:
    return {(item["type"], item["id"]): item for item in (document or {}).get("included") or ()}


def related(resource: Mapping[str, Any], name: str, included: Included) -> Mapping[str, Any] | None:
    """The included resource a to-one relationship points at, if it was included."""
    link = ((resource.get("relationships") or {}).get(name) or {}).get("data")
    if not link:
        return None
    return included.get((link["type"], link["id"]), {"type": link["type"], "id": link["id"], "attributes": {}})


def related_id(resource: Mapping[str, Any], name: str) -> str | None:
    link = ((resource.get("relationships") or {}).get(name) or {}).get("data")
    return link["id"] if link else None
