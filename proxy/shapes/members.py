"""Legacy v2 member and list-exclusion records (legacy contract §2.5) from JSON:API
profiles, and the `marker` batch that carries them.

Records name only the identifiers a profile has: real captures leave `phone_number` out
when it is unknown (and members/all records carry `push_token` only when there is one). List exclusions use capitalised reasons ("Unsubscribed", "Bounced"),
the global vocabulary of `proxy.shapes.exclusion` in title case.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from proxy.shapes.exclusion import LEGACY_REASONS
from proxy.shapes.included import Included
from proxy.shapes.timefmt import LATEST, legacy_iso, parse_iso

LIST_REASONS = {new: legacy.replace("_", " ").title() for new, legacy in LEGACY_REASONS.items()}
UNSUBSCRIBED = "Unsubscribed"


def member_record(resource: Mapping[str, Any]) -> dict[str, Any]:
    """`{"id", "email"}` plus `phone_number` when known — members/all, add and subscribe answers."""
    return _identified(resource, ("email", "phone_number"))


def push_tokens(document: Mapping[str, Any]) -> dict[str, str]:
    """Profile id -> its first push token, from profiles read with `include=push-tokens`
    (legacy records carried one `push_token`)."""
    by_id = {
        (item.get("type"), item.get("id")): (item.get("attributes") or {}).get("token")
        for item in document.get("included") or ()
    }
    found: dict[str, str] = {}
    if not by_id:  # nobody's token was included: most pages of a large group
        return found
    for profile in document.get("data") or ():
        linkage = (((profile.get("relationships") or {}).get("push-tokens") or {}).get("data")) or ()
        for item in linkage:
            if token := by_id.get((item.get("type"), item.get("id"))):
                found[profile["id"]] = token
                break
    return found


def check_record(resource: Mapping[str, Any], included: Included = {}) -> dict[str, Any]:
    """A membership check's record: when the profile joined, then who (key order of real captures)."""
    joined = (resource.get("attributes") or {}).get("joined_group_at")
    return {"created": legacy_iso(joined), **member_record(resource)}


def unique(records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """One record per profile, where it first appeared."""
    first: dict[str, dict[str, Any]] = {}
    for record in records:
        first.setdefault(record["id"], record)
    return list(first.values())


def marker_batch(records: list[dict[str, Any]], marker: int | None) -> dict[str, Any]:
    """`{"marker": n, "records": […]}`; the last batch has no `marker` key at all."""
    return {"records": records} if marker is None else {"marker": marker, "records": records}


def list_exclusion(resource: Mapping[str, Any], list_id: str) -> dict[str, Any] | None:
    """Why the profile gets no email (a suppression from this list first, else a global
    one) or SMS from the list; None when it is not excluded."""
    marketing = _marketing(resource, "email")
    suppression = _earliest(entry for entry in marketing.get("list_suppressions") or () if entry["list_id"] == list_id)
    suppression = suppression or _earliest(marketing.get("suppression") or ())
    phone_unsubscribed = _marketing(resource, "sms").get("consent") == "UNSUBSCRIBED"
    if suppression is None and not phone_unsubscribed:
        return None
    record = _identified(resource, ("email",))
    if suppression is not None:
        record["reason"] = _list_reason(suppression["reason"])
        record["created"] = legacy_iso(suppression["timestamp"])
    if phone_unsubscribed:
        record["phone_number"] = (resource.get("attributes") or {}).get("phone_number") or ""
        record["phone_reason"] = UNSUBSCRIBED
    return record


def member_exclusion(resource: Mapping[str, Any], list_id: str) -> dict[str, Any] | None:
    """A list member's exclusion, unless it is one the list's own suppressions already gave."""
    left = any(entry["list_id"] == list_id for entry in _marketing(resource, "email").get("list_suppressions") or ())
    return None if left else list_exclusion(resource, list_id)


def _identified(resource: Mapping[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    attributes = resource.get("attributes") or {}
    record = {"id": resource["id"]}
    for name in names:
        if value := attributes.get(name):
            record[name] = value
    return record


def _list_reason(reason: str) -> str:
    return LIST_REASONS.get(reason) or reason.replace("_", " ").title()


def _marketing(resource: Mapping[str, Any], channel: str) -> Mapping[str, Any]:
    subscriptions = (resource.get("attributes") or {}).get("subscriptions") or {}
    return (subscriptions.get(channel) or {}).get("marketing") or {}


def _earliest(entries: Iterable[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    return min(entries, key=lambda entry: parse_iso(entry["timestamp"]) or LATEST, default=None)
