import math
from decimal import Decimal

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from proxy.shapes.event_input import InvalidPayload, event_body
from proxy.shapes.profile_input import profile_attributes

NOW_NS = 1_700_000_000_123_456_789


def track(**changes):
    payload = {
        "token": "DemoPk",
        "event": "Ordered Product",
        "customer_properties": {"$email": "ada@example.com", "$first_name": "Ada", "$city": "London", "plan": "gold"},
        "properties": {"item": "book", "$value": 9.99, "$event_id": "order-1"},
        "time": 1650024000,
    }
    payload.update(changes)
    return payload


def test_special_properties_are_translated():
    attributes = event_body(track(), NOW_NS).body["data"]["attributes"]
    assert attributes["metric"] == {"data": {"type": "metric", "attributes": {"name": "Ordered Product"}}}
    assert attributes["profile"]["data"]["attributes"] == {
        "email": "ada@example.com",
        "first_name": "Ada",
        "location": {"city": "London"},
        "properties": {"plan": "gold"},
    }
    assert attributes["properties"] == {"item": "book", "$event_id": "order-1"}
    assert attributes["value"] == 9.99
    assert attributes["unique_id"] == "order-1"
    assert attributes["time"] == "2022-04-15T12:00:00+00:00"


def test_unprefixed_identifiers_are_aliases():
    assert profile_attributes({"email": "a@b.c", "id": 42, "phone_number": "+15005550006"}) == {
        "email": "a@b.c",
        "external_id": "42",
        "phone_number": "+15005550006",
    }


def test_emails_are_trimmed_and_lower_cased():
    assert profile_attributes({"$email": "  Ada.Lovelace@Example.COM "}) == {"email": "ada.lovelace@example.com"}


def test_missing_or_null_time_lets_klaviyo_use_receive_time():
    assert "time" not in attributes_of(track(time=None))
    payload = track()
    del payload["time"]
    assert "time" not in attributes_of(payload)


def attributes_of(payload, received_ns=NOW_NS):
    return event_body(payload, received_ns).body["data"]["attributes"]


def test_a_payload_with_its_own_time_is_the_same_event_however_often_it_is_sent():
    payload = track(properties={"item": "pen"})
    first = attributes_of(payload)["unique_id"]
    assert attributes_of(payload, NOW_NS + 3600 * 10**9)["unique_id"] == first  # a retry an hour later
    assert attributes_of(track(properties={"item": "ink"}))["unique_id"] != first
    assert attributes_of(track(properties={"item": "pen"}, time=1650024001))["unique_id"] != first


def test_without_a_time_the_event_is_the_second_it_was_received_in():
    payload = track(properties={"item": "pen"}, time=None)
    first = attributes_of(payload)["unique_id"]
    assert attributes_of(payload, NOW_NS + 1)["unique_id"] == first  # same second: the same event, as legacy
    assert attributes_of(payload, NOW_NS + 10**9)["unique_id"] != first


def test_track_once_uses_one_id_per_metric_and_drops_the_flag():
    payload = track(properties={"__track_once__": True}, time=None)
    one = attributes_of(payload)
    two = attributes_of(payload, NOW_NS + 10**9)
    assert one["unique_id"] == two["unique_id"]
    assert one["properties"] == {}


@pytest.mark.parametrize(
    "changes",
    [
        {"event": ""},
        {"event": None},
        {"customer_properties": {"plan": "gold"}},
        {"customer_properties": "ada@example.com"},
        {"customer_properties": {"$email": "not-an-email"}},
        {"customer_properties": {"$phone_number": "555-1234"}},
    ],
)
def test_payloads_without_a_name_or_a_usable_identifier_are_rejected(changes):
    with pytest.raises(InvalidPayload):
        event_body(track(**changes), NOW_NS)


@pytest.mark.parametrize(
    ("changes", "field", "moved_to", "kept"),
    [
        ({"time": "yesterday"}, "time", "unusable_time", "yesterday"),
        ({"time": 315_532_799}, "time", "unusable_time", 315_532_799),  # 1979: before 1990
        ({"time": 1_700_000_000 + 400 * 86_400}, "time", "unusable_time", 1_700_000_000 + 400 * 86_400),
        ({"properties": {"$value": "lots"}}, "$value", "unusable_value", "lots"),
        ({"properties": {"$value": True}}, "$value", "unusable_value", True),
        ({"properties": {"$value": "NaN"}}, "$value", "unusable_value", "NaN"),
        ({"properties": {"$value": "1e309"}}, "$value", "unusable_value", "1e309"),
    ],
)
def test_one_unusable_event_field_is_kept_as_a_custom_property(changes, field, moved_to, kept):
    event = event_body(track(**changes), NOW_NS)
    attributes = event.body["data"]["attributes"]
    assert attributes["properties"][moved_to] == kept
    assert attributes["profile"]["data"]["attributes"]["email"] == "ada@example.com"
    assert [(d.field, d.moved_to) for d in event.degraded] == [(field, moved_to)]
    assert ("time" if field == "time" else "value") not in attributes


@pytest.mark.parametrize(
    ("customer", "field"),
    [
        ({"$email": "ada@", "$id": "ext-1"}, "email"),
        ({"$email": "ada@example.com", "$phone_number": "(555) 123-4567"}, "phone_number"),
    ],
)
def test_an_unusable_identifier_beside_a_usable_one_is_kept_as_a_custom_property(customer, field):
    event = event_body(track(customer_properties=customer), NOW_NS)
    profile = event.body["data"]["attributes"]["profile"]["data"]["attributes"]
    assert field not in profile
    assert profile["properties"]["unusable_" + field] == customer["$" + field]
    assert [d.field for d in event.degraded] == ["customer_properties." + field]


def test_a_moved_value_never_overwrites_a_property_the_client_sent():
    attributes = attributes_of(track(properties={"$value": "lots", "unusable_value": "mine"}))
    assert attributes["properties"] == {"unusable_value": "mine", "unusable_value_2": "lots"}


@pytest.mark.parametrize(("raw", "value"), [("19.99", 19.99), ("100", 100), (" 7 ", 7), (42, 42), (2.5, 2.5), ("1e3", 1000.0)])
def test_numeric_values_are_sent_as_numbers(raw, value):
    attributes = attributes_of(track(properties={"$value": raw}))
    assert attributes["value"] == value and type(attributes["value"]) is type(value)


def test_a_value_a_double_would_round_is_kept_exactly_as_a_custom_property():
    digits = "123456789012345678901234567890"
    attributes = attributes_of(track(properties={"$value": digits}))
    assert "value" not in attributes and attributes["properties"]["unusable_value"] == digits


def test_exchange_id_identifies_the_profile():
    customer = {"$exchange_id": "abc123.DemoPk", "plan": "gold"}
    profile = attributes_of(track(customer_properties=customer))["profile"]["data"]["attributes"]
    assert profile == {"_kx": "abc123.DemoPk", "properties": {"plan": "gold"}}
    top_level = attributes_of(track(customer_properties={}, **{"$exchange_id": "abc123.DemoPk"}))
    assert top_level["profile"]["data"]["attributes"] == {"_kx": "abc123.DemoPk"}


numeric_strings = st.one_of(
    st.from_regex(r"[+-]?\d{1,40}(\.\d{0,30})?([eE][+-]?\d{1,4})?", fullmatch=True),
    st.sampled_from(["NaN", "nan", "inf", "-Infinity", "1e309", "-1e309", "1e-400", "0x10", "1_000", " 5 ", "."]),
    st.floats().map(repr),
    st.text(max_size=12),
)


@settings(max_examples=400, deadline=None)
@given(raw=numeric_strings)
def test_a_value_string_becomes_an_exact_finite_number_or_stays_as_sent(raw):
    attributes = attributes_of(track(properties={"$value": raw}))
    sent = orjson.loads(orjson.dumps(attributes))  # what goes upstream: never a silent null
    if "value" in sent:
        value = sent["value"]
        assert isinstance(value, (int, float)) and math.isfinite(value)
        assert Decimal(repr(value)) == Decimal(raw.strip())  # never rounded
        assert "unusable_value" not in sent["properties"]
    elif raw != "":
        assert sent["properties"]["unusable_value"] == raw
