"""Consent in the new API's terms: the bulk subscribe/unsubscribe job bodies, the client
subscription body, and whether a list member may be mailed (hazards 10 and 11).

A legacy subscriber consents to email when it has an address, and to SMS only when it
said `sms_consent` (or listed "sms" in `$consent`) and has a number. The new API cannot
subscribe or unsubscribe a bare push token (it needs the app's platform and vendor).
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from proxy.shapes.member_input import LegacyProfile

# Legacy identifier field -> the channel consent is given or withdrawn on.
CHANNELS = {"email": "email", "phone_number": "sms"}
# Push consent can be read; it cannot be written from a bare token.
READ_CHANNELS = {**CHANNELS, "push_token": "mobile_push"}
# Email suppressions a subscription lifts (the subscribe job's description); a bounce or an
# invalid address stays, and keeps the profile from email whatever its consent.
LIFTED_SUPPRESSIONS = frozenset({"UNSUBSCRIBE", "SPAM_COMPLAINT", "USER_SUPPRESSED"})


def subscription_entry(profile_id: str, profile: LegacyProfile) -> dict[str, Any] | None:
    """One profile of a subscribe job, None when it consents to no channel."""
    fields = consenting_fields(profile)
    if not fields:
        return None
    return {
        "type": "profile",
        "id": profile_id,
        "attributes": {
            **{name: profile.attributes[name] for name in fields},
            "subscriptions": _consents((CHANNELS[name] for name in fields), "SUBSCRIBED"),
        },
    }


def unsubscription_entry(identifiers: Mapping[str, str]) -> dict[str, Any]:
    """One profile of an unsubscribe job, on the channels of the identifiers that named it
    (`{"email": …, "phone_number": …}`). A profile must appear once per job: once off the
    list, a second entry would unsubscribe it everywhere."""
    channels = (CHANNELS[field] for field in identifiers)
    return {"type": "profile", "attributes": {**identifiers, "subscriptions": _consents(channels, "UNSUBSCRIBED")}}


def job_body(kind: str, list_id: str, entries: list[dict[str, Any]]) -> dict[str, Any]:
    """A `profile-subscription-bulk-{create|delete}-job` scoped to the list."""
    return {
        "data": {
            "type": f"profile-subscription-bulk-{kind}-job",
            "attributes": {"profiles": {"data": entries}},
            "relationships": {"list": {"data": {"type": "list", "id": list_id}}},
        }
    }


def client_subscription_body(list_id: str, profile: LegacyProfile, source: str | None) -> dict[str, Any]:
    subscriptions = _consents((CHANNELS[name] for name in consenting_fields(profile)), "SUBSCRIBED")
    attributes: dict[str, Any] = {
        "profile": {"data": {"type": "profile", "attributes": {**profile.attributes, "subscriptions": subscriptions}}}
    }
    if source:
        attributes["custom_source"] = source
    return {
        "data": {
            "type": "subscription",
            "attributes": attributes,
            "relationships": {"list": {"data": {"type": "list", "id": list_id}}},
        }
    }


def is_subscribed(resource: Mapping[str, Any], field: str, list_id: str) -> bool:
    """May the list mail this member on the channel of `field`? Subscribed, and for email
    neither globally suppressed nor suppressed from this list."""
    subscriptions = (resource.get("attributes") or {}).get("subscriptions") or {}
    marketing = (subscriptions.get(READ_CHANNELS[field]) or {}).get("marketing") or {}
    if marketing.get("consent") != "SUBSCRIBED":
        return False
    list_suppressed = any(entry.get("list_id") == list_id for entry in marketing.get("list_suppressions") or ())
    return not marketing.get("suppression") and not list_suppressed


def subscribing_reaches_email(resource: Mapping[str, Any]) -> bool:
    """False when the profile (read with its email subscriptions) holds an email
    suppression that subscribing does not lift."""
    subscriptions = (resource.get("attributes") or {}).get("subscriptions") or {}
    suppressions = ((subscriptions.get("email") or {}).get("marketing") or {}).get("suppression") or ()
    return all(entry.get("reason") in LIFTED_SUPPRESSIONS for entry in suppressions)


def consenting_fields(profile: LegacyProfile) -> list[str]:
    """The identifier fields whose channel the legacy subscriber consents to."""
    consent = (profile.attributes.get("properties") or {}).get("$consent") or ()
    sms = profile.sms_consent or "sms" in consent
    return [name for name in CHANNELS if profile.attributes.get(name) and (name == "email" or sms)]


def _consents(channels: Iterable[str], state: str) -> dict[str, Any]:
    return {channel: {"marketing": {"consent": state}} for channel in channels}
