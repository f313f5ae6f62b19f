"""Legacy campaign form fields → new-API request bodies (hazard 9).

Legacy fields land on three resources: `name`, `list_id`, `use_smart_sending` and
`add_google_analytics` on the campaign; `subject`, `from_email` and `from_name` on its
email message; `template_id` through template assignment (which copies the template).
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

TRUE = frozenset({"true", "1", "yes", "on"})
MESSAGE_FIELDS = ("subject", "from_email", "from_name", "template_id")


def create_body(fields: Mapping[str, Any]) -> dict[str, Any]:
    """POST /api/campaigns: a draft with one email message; `name` defaults to the subject."""
    definition = {"channel": "email", "content": _content(fields)}
    attributes: dict[str, Any] = {
        "name": fields.get("name") or fields["subject"],
        "audiences": {"included": [fields["list_id"]]},
        "campaign-messages": {"data": [{"type": "campaign-message", "attributes": {"definition": definition}}]},
        **_options(fields),
    }
    return {"data": {"type": "campaign", "attributes": attributes}}


def campaign_patch(
    campaign_id: str, fields: Mapping[str, Any], excluded: Sequence[str] = ()
) -> dict[str, Any] | None:
    """PATCH /api/campaigns/{id} for the campaign-level fields given; None when there are none.
    A new `list_id` replaces the included audience; the audiences object goes whole, so the
    campaign's current `excluded` ones are sent back with it."""
    attributes: dict[str, Any] = _options(fields)
    if fields.get("name"):
        attributes["name"] = fields["name"]
    if fields.get("list_id"):
        attributes["audiences"] = {"included": [fields["list_id"]], "excluded": list(excluded)}
    return _update("campaign", campaign_id, attributes) if attributes else None


def message_patch(
    message_id: str, fields: Mapping[str, Any], current: Mapping[str, Any]
) -> dict[str, Any] | None:
    """PATCH /api/campaign-messages/{id} for the subject and sender given; None when there
    are none. `content` goes whole: the given fields over the message's `current` content."""
    changes = _content(fields)
    if not changes:
        return None
    content = {**current, **changes}
    return _update("campaign-message", message_id, {"definition": {"channel": "email", "content": content}})


def touches_message(fields: Mapping[str, Any]) -> bool:
    """Whether any given field lives on the campaign's message (or its template)."""
    return any(fields.get(name) for name in MESSAGE_FIELDS)


def assign_body(message_id: str, template_id: str) -> dict[str, Any]:
    template = {"data": {"type": "template", "id": template_id}}
    return {"data": {"type": "campaign-message", "id": message_id, "relationships": {"template": template}}}


def cancel_body(campaign_id: str) -> dict[str, Any]:
    return _update("campaign-send-job", campaign_id, {"action": "cancel"})


def clone_body(campaign_id: str, name: str | None) -> dict[str, Any]:
    attributes = {"new_name": name} if name else {}
    return {"data": {"type": "campaign", "id": campaign_id, "attributes": attributes}}


def _content(fields: Mapping[str, Any]) -> dict[str, Any]:
    names = {"subject": "subject", "from_email": "from_email", "from_name": "from_label"}
    return {new: fields[legacy] for legacy, new in names.items() if fields.get(legacy)}


def _options(fields: Mapping[str, Any]) -> dict[str, Any]:
    options: dict[str, Any] = {}
    if fields.get("use_smart_sending") is not None:
        options["send_options"] = {"use_smart_sending": fields["use_smart_sending"] in TRUE}
    if fields.get("add_google_analytics") is not None:
        options["tracking_options"] = {"add_tracking_params": fields["add_google_analytics"] in TRUE}
    return options


def _update(resource_type: str, resource_id: str, attributes: dict[str, Any]) -> dict[str, Any]:
    return {"data": {"type": resource_type, "id": resource_id, "attributes": attributes}}
