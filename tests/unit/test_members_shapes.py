"""Member, check and list-exclusion records, and the marker batch."""

from __future__ import annotations

from proxy.shapes.members import check_record, list_exclusion, marker_batch, member_exclusion, member_record, unique


def profile(**attributes) -> dict:
    return {"type": "profile", "id": "NTNqNW", "attributes": attributes}


def email_marketing(suppression=(), list_suppressions=()) -> dict:
    marketing = {"consent": "SUBSCRIBED", "suppression": list(suppression), "list_suppressions": list(list_suppressions)}
    return {"email": {"marketing": marketing}}


def test_member_records_name_only_known_identifiers():
    assert member_record(profile(email="a@x.co", phone_number=None)) == {"id": "NTNqNW", "email": "a@x.co"}
    assert member_record(profile(email=None, phone_number="+15005550006")) == {"id": "NTNqNW", "phone_number": "+15005550006"}


def test_check_records_start_with_when_the_member_joined():
    record = check_record(profile(email="a@x.co", joined_group_at="2019-04-09T18:37:42.5+00:00"))
    assert record == {"created": "2019-04-09T18:37:42Z", "id": "NTNqNW", "email": "a@x.co"}
    assert list(record) == ["created", "id", "email"]


def test_unique_keeps_each_profile_where_it_first_appeared():
    records = [{"id": "a", "n": 1}, {"id": "b"}, {"id": "a", "n": 2}]
    assert unique(records) == [{"id": "a", "n": 1}, {"id": "b"}]


def test_the_last_batch_has_no_marker_key():
    assert marker_batch([], None) == {"records": []}
    assert list(marker_batch([{"id": "a"}], 123456)) == ["marker", "records"]


def test_a_list_suppression_speaks_for_the_profile_before_a_global_one():
    subscriptions = email_marketing(
        suppression=[{"reason": "HARD_BOUNCE", "timestamp": "2020-01-01T00:00:00+00:00"}],
        list_suppressions=[
            {"list_id": "Other", "reason": "USER_SUPPRESSED", "timestamp": "2018-01-01T00:00:00+00:00"},
            {"list_id": "Y6nRLr", "reason": "UNSUBSCRIBE", "timestamp": "2021-01-01T00:00:00+00:00"},
        ],
    )
    resource = profile(email="a@x.co", phone_number="+15005550006", subscriptions=subscriptions)
    assert list_exclusion(resource, "Y6nRLr") == {"id": "NTNqNW", "email": "a@x.co", "reason": "Unsubscribed", "created": "2021-01-01T00:00:00Z"}
    assert list_exclusion(resource, "Other")["reason"] == "Manually Excluded"
    assert list_exclusion(resource, "Third") == {"id": "NTNqNW", "email": "a@x.co", "reason": "Bounced", "created": "2020-01-01T00:00:00Z"}


def test_capitalised_reasons_and_the_earliest_suppression():
    suppressions = [
        {"reason": "SPAM_COMPLAINT", "timestamp": "2022-01-01T00:00:00+00:00"},
        {"reason": "INVALID_EMAIL", "timestamp": "2021-06-01T00:00:00+00:00"},
    ]
    assert list_exclusion(profile(email="a@x.co", subscriptions=email_marketing(suppressions)), "L")["reason"] == "Invalid Email"


def test_sms_unsubscribes_add_the_phone_reason():
    subscriptions = {**email_marketing(), "sms": {"marketing": {"consent": "UNSUBSCRIBED"}}}
    record = list_exclusion(profile(email="a@x.co", phone_number="+15005550006", subscriptions=subscriptions), "L")
    assert record == {"id": "NTNqNW", "email": "a@x.co", "phone_number": "+15005550006", "phone_reason": "Unsubscribed"}


def test_a_mailable_profile_is_no_exclusion_and_leavers_are_not_repeated_as_members():
    assert list_exclusion(profile(email="a@x.co", subscriptions=email_marketing()), "L") is None
    left = email_marketing(list_suppressions=[{"list_id": "L", "reason": "UNSUBSCRIBE", "timestamp": "2021-01-01T00:00:00+00:00"}])
    assert member_exclusion(profile(email="a@x.co", subscriptions=left), "L") is None
