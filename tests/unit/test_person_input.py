"""PUT /api/v1/person/{id} fields → a PATCH body: strings kept, missing ≠ null, `$unset`."""

import pytest

from proxy.shapes.person_input import InvalidUpdate, update_body

PID = "01GDDKASAP8TKDDA2GRZDSVP4H"


def test_special_and_custom_properties_as_the_strings_they_arrived_as():
    body = update_body(PID, [("api_key", "pk_x"), ("$first_name", "Ada"), ("$city", "London"), ("plan", "gold"), ("points", "12")])
    assert body == {
        "data": {
            "type": "profile",
            "id": PID,
            "attributes": {"first_name": "Ada", "location": {"city": "London"}, "properties": {"plan": "gold", "points": "12"}},
        }
    }


def test_unset_clears_special_properties_with_null_and_custom_ones_with_patch_properties():
    body = update_body(PID, [("$unset", '["$title","$zip","favoriteFood","This one has spaces"]'), ("$city", "Bath")])
    data = body["data"]
    assert data["attributes"] == {"title": None, "location": {"city": "Bath", "zip": None}}
    assert data["meta"] == {"patch_properties": {"unset": ["favoriteFood", "This one has spaces"]}}


def test_a_single_name_may_come_as_a_json_string_and_the_first_repeat_counts():
    body = update_body(PID, [("$unset", '"plan"'), ("tier", "a"), ("tier", "b")])
    assert body["data"]["meta"]["patch_properties"]["unset"] == ["plan"]
    assert body["data"]["attributes"] == {"properties": {"tier": "a"}}


def test_nothing_to_change_is_none():
    assert update_body(PID, [("api_key", "pk_x"), ("$unset", "[]")]) is None


@pytest.mark.parametrize("raw", ["not json", "[1, 2]", '{"a": 1}'])
def test_a_bad_unset_is_refused(raw):
    with pytest.raises(InvalidUpdate, match=r"^Invalid value for \$unset"):
        update_body(PID, [("$unset", raw)])
