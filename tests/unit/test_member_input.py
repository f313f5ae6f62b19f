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
    profiles_from,
    require_identifiers,
)


@pytest.mark.parametrize(
    "params",
    [
        [("emails", ["a@x.co", "b@x.co"])],  # a JSON body's array
        [("emails", "a@x.co,b@x.co")],  # comma-separated query
        [("emails", "a@x.co"), ("emails", "b@x.co")],  # repeated query
        [("emails", '["a@x.co", "b@x.co"]')],  # a JSON array in a form field
        [("email", "a@x.co, b@x.co,")],  # v1 `email=a,b`
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
    assert profile.attributes == {"email": "Ada@x.co", "first_name": "Ada", "properties": {"plan": "gold"}}
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
