"""Legacy campaign objects (legacy contract §2.7, §4.8) and campaign recipients.

A legacy campaign spans three new-API resources (hazard 9): the campaign (audiences,
status, send time), its email message (subject and sender) and the message's private
template copy. STATUSES is the vocabulary table documented in mappings/campaigns.yaml.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from proxy.shapes.included import Included, related_id
from proxy.shapes.timefmt import legacy_datetime, parse_iso

# new status → legacy (status, status_id, status_label). The label is the new status
# itself: the new API exposes the names the legacy labels used ("Draft", "Sent").
STATUSES: dict[str, tuple[str, int, str]] = {
    "Draft": ("draft", 2, "Draft"),
    "Scheduled": ("scheduled", 3, "Scheduled"),
    "Preparing to schedule": ("scheduled", 3, "Preparing to schedule"),
    "Queued without Recipients": ("scheduled", 3, "Queued without Recipients"),
    "Preparing to send": ("sending", 4, "Preparing to send"),
    "Adding Recipients": ("sending", 4, "Adding Recipients"),
    "Sending": ("sending", 4, "Sending"),
    "Sending Segments": ("sending", 4, "Sending Segments"),
    "Sent": ("sent", 1, "Sent"),
    "Variations Sent": ("sent", 1, "Variations Sent"),
    "Cancelled": ("cancelled", 5, "Cancelled"),
    "Cancelled: Smart Sending": ("cancelled", 5, "Cancelled: Smart Sending"),
    "Cancelled: Account Disabled": ("cancelled", 5, "Cancelled: Account Disabled"),
    "Cancelled: No Recipients": ("cancelled", 5, "Cancelled: No Recipients"),
    "Cancelled: Internal Error": ("cancelled", 5, "Cancelled: Internal Error"),
    "Cancelled: Billing Limit": ("cancelled", 5, "Cancelled: Billing Limit"),
    "Cancelled: Misconfigured": ("cancelled", 5, "Cancelled: Misconfigured"),
    "Unknown": ("unknown", 0, "Unknown"),
}


def legacy_status(status: str | None) -> tuple[str, int, str]:
    return STATUSES.get(status or "Unknown", STATUSES["Unknown"])


def legacy_campaign(
    campaign: Mapping[str, Any],
    message: Mapping[str, Any] | None,
    audiences: Mapping[str, Mapping[str, Any]],
    template: Mapping[str, Any] | None = None,
    *,
    with_template: bool = False,
    recipients: int = 0,
) -> dict[str, Any]:
    """The legacy campaign. `audiences` maps list and segment ids to legacy list objects;
    listings carry `template_id` only, a single campaign also its `template` object.
    `num_recipients` is `recipients` once the campaign was sent (or is sending), else 0:
    a draft, scheduled or cancelled campaign reached nobody."""
    attributes = campaign.get("attributes") or {}
    included, excluded = included_and_excluded(campaign)
    content = message_content(message)
    status, status_id, status_label = legacy_status(attributes.get("status"))
    lists = [audiences[i] for i in included if i in audiences]
    shaped: dict[str, Any] = {
        "object": "campaign",
        "id": campaign["id"],
        "name": attributes.get("name") or "",
        "subject": content.get("subject"),
        "from_email": content.get("from_email") or "",
        "from_name": content.get("from_label") or "",
        "lists": lists,
        "excluded_lists": [audiences[i] for i in excluded if i in audiences],
    }
    if with_template:
        shaped["template"] = _template(template)
    send_time = legacy_datetime(attributes.get("send_time")) or None
    return shaped | {
        "template_id": related_id(message, "template") if message else None,
        "status": status,
        "status_id": status_id,
        "status_label": status_label,
        "sent_at": send_time if status == "sent" else None,
        "send_time": send_time,
        "created": legacy_datetime(attributes.get("created_at")),
        "updated": legacy_datetime(attributes.get("updated_at")),
        "num_recipients": recipients if was_sent(campaign) else 0,
        "is_segmented": any(item["list_type"] == "segment" for item in lists),
        "campaign_type": "Regular",
        "message_type": _channel(message),
    }


def audience_ids(campaign: Mapping[str, Any]) -> list[str]:
    """Every list and segment a campaign names, included first, each once."""
    included, excluded = included_and_excluded(campaign)
    return list(dict.fromkeys([*included, *excluded]))


def included_and_excluded(campaign: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    audiences = (campaign.get("attributes") or {}).get("audiences") or {}
    return list(audiences.get("included") or ()), list(audiences.get("excluded") or ())


def excluded_audiences(campaign: Mapping[str, Any]) -> list[str]:
    return included_and_excluded(campaign)[1]


def email_message(messages: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The campaign's email message (legacy campaigns were email only)."""
    return next((m for m in messages if _channel(m) == "email"), messages[0] if messages else None)


def legacy_recipient(profile: Mapping[str, Any], status_label: str, variation_id: str | None) -> dict[str, Any]:
    return {
        "email": (profile.get("attributes") or {}).get("email") or "",
        "status": status_label,
        "customer_id": profile["id"],
        "variation_id": variation_id,
    }


def recipient_status(campaign: Mapping[str, Any]) -> str:
    """What every recipient's status is, as far as the campaign's state tells: "Sent" once
    it was sent, "Scheduled" while it waits, and so on."""
    return legacy_status((campaign.get("attributes") or {}).get("status"))[0].capitalize()


def was_sent(campaign: Mapping[str, Any]) -> bool:
    """Has the campaign gone out (or is it going out)? Drafts, scheduled and cancelled
    campaigns reached nobody."""
    return legacy_status((campaign.get("attributes") or {}).get("status"))[0] in ("sent", "sending")


def emailable_at(profile: Mapping[str, Any], send_time: str) -> bool:
    """Could a marketing email reach the profile at `send_time`? Not if a global email
    suppression (read with `additional-fields[profile]=subscriptions`) predates it."""
    sent = parse_iso(send_time)
    subscriptions = (profile.get("attributes") or {}).get("subscriptions") or {}
    suppressions = ((subscriptions.get("email") or {}).get("marketing") or {}).get("suppression") or ()
    return sent is not None and not any(
        (since := parse_iso(entry.get("timestamp"))) is None or since <= sent for entry in suppressions
    )


def recipients_page(recipients: Sequence[Mapping[str, Any]], next_offset: str | None) -> dict[str, Any]:
    return {"object": "$list", "count": len(recipients), "data": list(recipients), "next_offset": next_offset}


def queued(job: Mapping[str, Any], included: Included = {}) -> dict[str, Any]:
    """The answer to send and schedule: the send job's status."""
    return {"status": (job.get("attributes") or {}).get("status") or "queued"}


def message_content(message: Mapping[str, Any] | None) -> Mapping[str, Any]:
    """The email message's `definition.content` (subject, sender…), as stored."""
    definition = ((message or {}).get("attributes") or {}).get("definition") or {}
    return definition.get("content") or {}


def _channel(message: Mapping[str, Any] | None) -> str:
    definition = ((message or {}).get("attributes") or {}).get("definition") or {}
    return definition.get("channel") or "email"


def _template(template: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if template is None:
        return None
    return {"object": "email-template", "id": template["id"], "html": (template.get("attributes") or {}).get("html") or ""}


def campaign_messages(campaign: Mapping[str, Any], included: Included) -> list[Mapping[str, Any]]:
    """The campaign's messages among a listing's `included` resources."""
    links = ((campaign.get("relationships") or {}).get("campaign-messages") or {}).get("data") or ()
    return [included[(link["type"], link["id"])] for link in links if (link["type"], link["id"]) in included]
