"""Consent in the new API's terms: job entries and bodies, client subscriptions, and the
subscribed-and-not-suppressed test."""

from __future__ import annotations

import pytest

from proxy.shapes.member_input import legacy_profile
from proxy.shapes.subscriptions import (
    client_subscription_body,
    is_subscribed,
    job_body,
    subscription_entry,
    unsubscription_entry,
)

SUBSCRIBED = {"consent": "SUBSCRIBED"}


@pytest.mark.parametrize(
    ("properties", "channels"),
    [
        ({"email": "a@x.co"}, {"email"}),
        ({"email": "a@x.co", "phone_number": "+15005550006"}, {"email"}),
        ({"email": "a@x.co", "phone_number": "+15005550006", "sms_consent": True}, {"email", "sms"}),
        ({"phone_number": "+15005550006", "$consent": ["sms", "email"]}, {"sms"}),
        ({"phone_number": "+15005550006"}, None),
    ],
)
def test_a_subscriber_consents_to_email_and_only_says_yes_to_sms(properties, channels):
    entry = subscription_entry("01ID", legacy_profile(properties))
    if channels is None:
        assert entry is None
        return
    assert (entry["type"], entry["id"]) == ("profile", "01ID")
    subscriptions = entry["attributes"]["subscriptions"]
    assert set(subscriptions) == channels
    assert all(value == {"marketing": SUBSCRIBED} for value in subscriptions.values())
    assert "properties" not in entry["attributes"]  # the job takes no properties: those are upserted first


def test_an_unsubscription_names_every_channel_once():
    entry = unsubscription_entry({"email": "a@x.co", "phone_number": "+15005550006"})
    assert entry == {
        "type": "profile",
        "attributes": {
            "email": "a@x.co",
            "phone_number": "+15005550006",
            "subscriptions": {"email": {"marketing": {"consent": "UNSUBSCRIBED"}}, "sms": {"marketing": {"consent": "UNSUBSCRIBED"}}},
        },
    }


def test_jobs_are_scoped_to_the_list():
    body = job_body("delete", "Y6nRLr", [{"type": "profile"}])
    assert body["data"]["type"] == "profile-subscription-bulk-delete-job"
    assert body["data"]["relationships"] == {"list": {"data": {"type": "list", "id": "Y6nRLr"}}}
    assert body["data"]["attributes"] == {"profiles": {"data": [{"type": "profile"}]}}


def test_a_client_subscription_carries_the_whole_profile():
    profile = legacy_profile({"email": "a@x.co", "$first_name": "Ada", "$source": "Footer"})
    data = client_subscription_body("Y6nRLr", profile, "Footer")["data"]
    assert data["attributes"]["custom_source"] == "Footer"
    assert data["attributes"]["profile"]["data"]["attributes"] == {
        "email": "a@x.co",
        "first_name": "Ada",
        "properties": {"$source": "Footer"},
        "subscriptions": {"email": {"marketing": SUBSCRIBED}},
    }
    assert "custom_source" not in client_subscription_body("Y6nRLr", profile, None)["data"]["attributes"]


def member(email_marketing: dict | None = None, sms_marketing: dict | None = None) -> dict:
    subscriptions = {"email": {"marketing": email_marketing or {}}, "sms": {"marketing": sms_marketing or {}}}
    return {"id": "x", "attributes": {"subscriptions": subscriptions}}


@pytest.mark.parametrize(
    ("resource", "field", "expected"),
    [
        (member(SUBSCRIBED), "email", True),
        (member({"consent": "NEVER_SUBSCRIBED"}), "email", False),
        (member({**SUBSCRIBED, "suppression": [{"reason": "HARD_BOUNCE"}]}), "email", False),
        (member({**SUBSCRIBED, "list_suppressions": [{"list_id": "L"}]}), "email", False),
        (member({**SUBSCRIBED, "list_suppressions": [{"list_id": "Other"}]}), "email", True),
        (member(SUBSCRIBED), "phone_number", False),
        (member(sms_marketing=SUBSCRIBED), "phone_number", True),
        (member(SUBSCRIBED), "push_token", False),
    ],
)
def test_subscribed_means_consent_on_the_matching_channel_and_no_suppression(resource, field, expected):
    assert is_subscribed(resource, field, "L") is expected
