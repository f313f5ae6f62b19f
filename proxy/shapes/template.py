"""Legacy email-template objects (legacy contract §2.6, §4.7) from JSON:API `template`s."""

from __future__ import annotations

from typing import Any, Mapping

import orjson

from proxy.legacy.errors import LegacyInputError
from proxy.shapes.included import Included
from proxy.shapes.timefmt import legacy_datetime

OBJECT = "email-template"


class InvalidRecipients(LegacyInputError):
    pass


def legacy_template(resource: Mapping[str, Any], included: Included = {}) -> dict[str, Any]:
    attributes = resource.get("attributes") or {}
    return {
        "object": OBJECT,
        "id": resource["id"],
        "name": attributes.get("name") or "",
        "html": attributes.get("html") or "",
        "created": legacy_datetime(attributes.get("created")),
        "updated": legacy_datetime(attributes.get("updated")),
    }


def rendered_template(resource: Mapping[str, Any], included: Included = {}) -> dict[str, Any]:
    """The answer to render: the template's rendered HTML and text under `data`."""
    attributes = resource.get("attributes") or {}
    return _with_data(resource["id"], attributes.get("name"), {"html": attributes.get("html") or "", "text": attributes.get("text") or ""})


def queued_send(template: Mapping[str, Any], job: Mapping[str, Any]) -> dict[str, Any]:
    """The answer to send: the template (read first: the job does not name it) and the
    state of the preview-send job that took it."""
    name = (template.get("attributes") or {}).get("name")
    return _with_data(template["id"], name, {"status": (job.get("attributes") or {}).get("status") or "queued"})


def send_recipients(to: str) -> list[str]:
    """Legacy `to`: one address, or a JSON array of {"email", "name"} objects. The preview
    send takes addresses only, so names are dropped."""
    text = to.strip()
    if not text.startswith("["):
        return [text]
    try:
        items = orjson.loads(text)
    except orjson.JSONDecodeError:
        raise InvalidRecipients("Invalid value for to: not valid JSON.") from None
    addresses = [item.get("email") if isinstance(item, dict) else item for item in items]
    if not addresses or not all(isinstance(address, str) and address for address in addresses):
        raise InvalidRecipients("Invalid value for to: every recipient needs an email address.")
    return addresses


def _with_data(template_id: str, name: str | None, data: dict[str, Any]) -> dict[str, Any]:
    return {"object": OBJECT, "id": template_id, "name": name, "data": data}
