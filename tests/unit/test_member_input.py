"""Who a legacy list call names: identifier arrays in every wire form, and `profiles`."""

from __future__ import annotations

import pytest
from multidict import MultiDict

from proxy.shapes.member_input import (
    Identifiers,
    InvalidInput,
    LegacyProfile,
    check_count,
    identifiers_from,
    legacy_profile,
    merge_same_people,
    profiles_from,
    require_identifiers,
    without_own_id,
)


@pytest.mark.parametrize(
    "params",
    [
        [("emails", ["a@x.co", "b@x.co"])],  # a JSON body's array
        [("emails", "a@x.co,b@x.co")],  # comma-separated query
        [("emails", "a@x.co"), ("emails", "b@x.co")],  # repeated query
        [("emails", '["a@x.co", "b@x.co"]')],  # a JSON array in a form field
        [("email", "a@x.co, b@x.co,")],  # v1 `email=a,b`
        [("emails", [" A@X.co", "b@x.CO"])],  # any case, stray blanks
        [("profiles", [{"email": "a@x.co"}, {"$email": "b@x.co"}])],
        [("emails", ["a@x.co"]), ("profiles", '[{"email": "b@x.co"}, {"email": "a@x.co"}]')],
    ],
)
def test_every_form_names_the_same_people(params):
    assert identifiers_from(MultiDict(params)) == Identifiers(email=("a@x.co", "b@x.co"))


def test_phones_and_push_tokens_keep_their_own_fields():
    params = MultiDict([("phone_numbers", [15005550006]), ("push_tokens", "t1,t2"), ("profiles", [{"push_token": "t3"}])])
    identifiers = identifiers_from(params)
    assert identifiers.given() == {"phone_number": ("15005550006",), "push_token": ("t1", "t2", "t3")}


@pytest.mark.parametrize("value", [[{"email": "a"}], [True], "[not json"])
def test_unreadable_arrays_are_refused(value):
    with pytest.raises(InvalidInput):
        identifiers_from(MultiDict([("emails", value)]))


def test_at_most_a_hundred_of_each_may_be_checked():
    check_count(Identifiers(email=tuple(f"{i}@x.co" for i in range(100)), phone_number=("+1",) * 100), 100)
    with pytest.raises(InvalidInput, match="At most 100 phone_numbers"):
        check_count(Identifiers(phone_number=tuple(f"+1{i}" for i in range(101))), 100)


def test_a_profile_object_becomes_attributes_and_legacy_extras():
    profile = legacy_profile({"$email": "Ada@x.co", "$first_name": "Ada", "plan": "gold", "push_token": "t", "sms_consent": True})
    assert profile.attributes == {"email": "ada@x.co", "first_name": "Ada", "properties": {"plan": "gold"}}
    assert (profile.push_token, profile.sms_consent) == ("t", True)
    assert profile.key == ("email", "ada@x.co")
    assert not profile.only_identifies


@pytest.mark.parametrize(
    ("properties", "only_identifies", "key"),
    [
        ({"email": "a@x.co"}, True, ("email", "a@x.co")),
        ({"phone_number": "+15005550006"}, True, ("phone_number", "+15005550006")),
        ({"$id": "cust-1"}, True, ("external_id", "cust-1")),
        ({"email": "a@x.co", "phone_number": "+15005550006"}, False, ("email", "a@x.co")),
    ],
)
def test_what_finds_a_profile(properties, only_identifies, key):
    profile = legacy_profile(properties)
    assert (profile.only_identifies, profile.key) == (only_identifies, key)


def test_one_object_for_profiles_is_accepted_and_writes_need_an_identifier():
    assert profiles_from(MultiDict([("profiles", {"email": "a@x.co"})])) == [LegacyProfile({"email": "a@x.co"})]
    with pytest.raises(InvalidInput, match=r"profiles\[1\] needs"):
        require_identifiers([legacy_profile({"email": "a@x.co"}), legacy_profile({"push_token": "t"})])
    with pytest.raises(InvalidInput, match="profiles is required"):
        require_identifiers([])


def test_a_bare_id_is_not_the_external_id_but_a_custom_property():
    profile = legacy_profile({"id": "01HPROFILEID", "email": "a@x.co"})
    assert profile.attributes == {"email": "a@x.co", "properties": {"id": "01HPROFILEID"}}
    assert profile.klaviyo_id == "01HPROFILEID" and profile.key == ("email", "a@x.co")
    assert legacy_profile({"$id": "cust-1"}).attributes == {"external_id": "cust-1"}


def test_a_bare_id_is_dropped_only_when_it_is_the_named_profiles_own_id():
    profile = legacy_profile({"id": "01HSAME", "email": "a@x.co", "plan": "gold"})
    assert without_own_id(profile, "01HSAME").attributes == {"email": "a@x.co", "properties": {"plan": "gold"}}
    assert without_own_id(profile, "01HOTHER") == profile
    copied = legacy_profile({"id": "01HSAME", "email": "a@x.co"})
    assert without_own_id(copied, "01HSAME").only_identifies


def test_entries_about_one_person_merge_in_order():
    entries = [
        legacy_profile({"email": "Ada@x.co", "plan": "gold", "$city": "London"}),
        legacy_profile({"email": "b@x.co"}),
        legacy_profile({"email": "ada@X.CO", "plan": "silver", "$zip": "N1", "age": 36}),
        legacy_profile({"$phone_number": "+15005550006", "$id": "b-1", "email": "b@x.co", "sms_consent": True}),
    ]
    merged, person_of = merge_same_people(entries)
    assert person_of == [0, 1, 0, 1]
    assert merged[0].attributes == {
        "email": "ada@x.co",
        "properties": {"plan": "silver", "age": 36},
        "location": {"city": "London", "zip": "N1"},
    }
    assert merged[1].attributes == {"email": "b@x.co", "phone_number": "+15005550006", "external_id": "b-1"}
    assert merged[1].sms_consent


def test_an_entry_naming_two_people_seen_apart_joins_them():
    entries = [legacy_profile({"email": "a@x.co"}), legacy_profile({"$id": "c-1"}), legacy_profile({"email": "a@x.co", "$id": "c-1"})]
    merged, person_of = merge_same_people(entries)
    assert person_of == [0, 0, 0] and merged[0].attributes == {"email": "a@x.co", "external_id": "c-1"}


def test_an_unusable_email_beside_a_phone_is_kept_as_a_property():
    profile = legacy_profile({"email": "nope", "phone_number": "+15005550006"})
    assert profile.attributes == {"phone_number": "+15005550006", "properties": {"unusable_email": "nope"}}
    assert [d.field for d in profile.degraded] == ["email"]
