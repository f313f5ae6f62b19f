"""Legacy global exclusions from profiles read with their subscriptions."""

from proxy.shapes.exclusion import REASONS, legacy_exclusion


def profile(*suppressions, email="ada@example.com"):
    marketing = {"can_receive_email_marketing": False, "consent": "NEVER_SUBSCRIBED", "suppression": list(suppressions)}
    return {"type": "profile", "id": "01H", "attributes": {"email": email, "subscriptions": {"email": {"marketing": marketing}}}}


def test_the_legacy_keys_in_order_with_a_snake_case_reason():
    exclusion = legacy_exclusion(profile({"reason": "SPAM_COMPLAINT", "timestamp": "2021-11-26T08:48:51.123+00:00"}))
    assert exclusion == {"object": "exclusion", "email": "ada@example.com", "reason": "reported_spam", "timestamp": "2021-11-26 08:48:51"}
    assert list(exclusion) == ["object", "email", "reason", "timestamp"]


def test_the_earliest_suppression_of_the_asked_reason_speaks_for_the_profile():
    both = profile(
        {"reason": "USER_SUPPRESSED", "timestamp": "2022-01-02T00:00:00+00:00"},
        {"reason": "HARD_BOUNCE", "timestamp": "2022-01-01T00:00:00+00:00"},
    )
    assert legacy_exclusion(both)["reason"] == "bounced"
    assert legacy_exclusion(both, REASONS["manually_excluded"])["reason"] == "manually_excluded"


def test_a_profile_without_a_matching_suppression_is_no_exclusion():
    assert legacy_exclusion(profile()) is None
    assert legacy_exclusion(profile({"reason": "UNSUBSCRIBE", "timestamp": "2022-01-01T00:00:00Z"}), "HARD_BOUNCE") is None


def test_every_legacy_reason_has_a_new_one():
    assert sorted(REASONS) == ["bounced", "invalid_email", "manually_excluded", "reported_spam", "unsubscribed"]
    assert sorted(REASONS.values()) == ["HARD_BOUNCE", "INVALID_EMAIL", "SPAM_COMPLAINT", "UNSUBSCRIBE", "USER_SUPPRESSED"]
