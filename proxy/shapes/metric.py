"""Legacy metric object (legacy contract §2.2) from a JSON:API `metric`."""

from __future__ import annotations

from typing import Any, Mapping

from proxy.shapes.included import Included
from proxy.shapes.timefmt import legacy_datetime


def legacy_metric(resource: Mapping[str, Any], included: Included = {}) -> dict[str, Any]:
    attributes = resource.get("attributes") or {}
    return {
        "object": "metric",
        "id": resource["id"],
        "name": attributes.get("name") or "",
        "integration": legacy_integration(attributes.get("integration")),
        "created": legacy_datetime(attributes.get("created")),
        "updated": legacy_datetime(attributes.get("updated")),
    }


def legacy_integration(integration: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not integration:
        return None
    return {
        "object": "integration",
        "id": integration.get("id", ""),
        "name": integration.get("name", ""),
        "category": integration.get("category", ""),
    }
