"""Legacy global exclusion (legacy contract §2.5) from a JSON:API `profile` read with
`additional-fields[profile]=subscriptions`.

The new API keeps a list of global email suppressions per profile; the legacy API
listed one exclusion per email, so the earliest suppression (of the asked-for reason)
speaks for the profile.
"""

from __future__ import annotations

from typing import Any, Mapping

from proxy.shapes.timefmt import LATEST, legacy_datetime, parse_iso

# Legacy exclusion reason → new-API suppression reason.
REASONS = {
    "unsubscribed": "UNSUBSCRIBE",
    "bounced": "HARD_BOUNCE",
    "invalid_email": "INVALID_EMAIL",
    "reported_spam": "SPAM_COMPLAINT",
    "manually_excluded": "USER_SUPPRESSED",
}
LEGACY_REASONS = {new: legacy for legacy, new in REASONS.items()}


def suppressions(resource: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    subscriptions = (resource.get("attributes") or {}).get("subscriptions") or {}
    return ((subscriptions.get("email") or {}).get("marketing") or {}).get("suppression") or []


def legacy_exclusion(resource: Mapping[str, Any], reason: str | None = None) -> dict[str, Any] | None:
    """The exclusion for a suppressed profile; None if it holds no suppression (of `reason`)."""
    matching = [
        entry
        for entry in suppressions(resource)
        if entry["reason"] in LEGACY_REASONS and reason in (None, entry["reason"])
    ]
    if not matching:
        return None
    earliest = min(matching, key=lambda entry: parse_iso(entry["timestamp"]) or LATEST)
    return {
        "object": "exclusion",
        "email": (resource.get("attributes") or {}).get("email") or "",
        "reason": LEGACY_REASONS[earliest["reason"]],
        "timestamp": legacy_datetime(earliest["timestamp"]),
    }
