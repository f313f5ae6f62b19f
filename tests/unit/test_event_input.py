import pytest

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
    attributes = event_body(track(), NOW_NS)["data"]["attributes"]
    assert attributes["metric"] == {"data": {"type": "metric", "attributes": {"name": "Ordered Product"}}}
    assert attributes["profile"]["data"]["attributes"] == {
        "email": "ada@example.com",
        "first_name": "Ada",
        "location": {"city": "London"},
        "properties": {"plan": "gold"},
    }
    assert attributes["properties"] == {"item": "book"}
    assert attributes["value"] == 9.99
    assert attributes["unique_id"] == "order-1"
    assert attributes["time"] == "2022-04-15T12:00:00+00:00"


def test_unprefixed_identifiers_are_aliases():
    assert profile_attributes({"email": "a@b.c", "id": 42, "phone_number": "+15005550006"}) == {
        "email": "a@b.c",
        "external_id": "42",
        "phone_number": "+15005550006",
    }


def test_missing_or_null_time_lets_klaviyo_use_receive_time():
    assert "time" not in event_body(track(time=None), NOW_NS)["data"]["attributes"]
    payload = track()
    del payload["time"]
    assert "time" not in event_body(payload, NOW_NS)["data"]["attributes"]


def test_every_event_gets_a_unique_id_that_differs_per_receipt():
    payload = track(properties={"item": "pen"})
    first = event_body(payload, NOW_NS)["data"]["attributes"]["unique_id"]
    again = event_body(payload, NOW_NS)["data"]["attributes"]["unique_id"]
    later = event_body(payload, NOW_NS + 1)["data"]["attributes"]["unique_id"]
    assert first == again != later


def test_track_once_uses_one_id_per_metric_and_drops_the_flag():
    payload = track(properties={"__track_once__": True}, time=None)
    one = event_body(payload, NOW_NS)["data"]["attributes"]
    two = event_body(payload, NOW_NS + 10**9)["data"]["attributes"]
    assert one["unique_id"] == two["unique_id"]
    assert one["properties"] == {}


@pytest.mark.parametrize(
    "changes",
    [
        {"event": ""},
        {"event": None},
        {"customer_properties": {"plan": "gold"}},
        {"customer_properties": "ada@example.com"},
        {"time": "yesterday"},
        {"properties": {"$value": "lots"}},
    ],
)
def test_unusable_payloads_are_rejected(changes):
    with pytest.raises(InvalidPayload):
        event_body(track(**changes), NOW_NS)
