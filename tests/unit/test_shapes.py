from proxy.shapes.event import legacy_event
from proxy.shapes.included import index_included
from proxy.shapes.metric import legacy_metric
from proxy.shapes.person import legacy_person

PROFILE = {
    "type": "profile",
    "id": "01GDDKASAP8TKDDA2GRZDSVP4H",
    "attributes": {
        "email": "testy@rewind.io",
        "first_name": "Testy",
        "last_name": "McTesterson",
        "phone_number": None,
        "external_id": None,
        "organization": None,
        "title": None,
        "created": "2019-03-28T13:22:35+00:00",
        "updated": "2019-04-09T15:17:12.123456+00:00",
        "location": {"city": "Concord", "region": "Ontario", "country": "Canada", "latitude": 100.0, "timezone": "America/Toronto"},
        "properties": {"Hi": "Bye", "$email": "must not override"},
    },
}
STANDARD_KEYS = {
    "object", "id", "$id", "$email", "$first_name", "$last_name", "$phone_number", "$title", "$organization",
    "$address1", "$address2", "$city", "$region", "$zip", "$country", "$timezone", "$latitude", "$longitude",
    "email", "first_name", "last_name", "created", "updated",
}


def test_person_has_the_23_standard_keys_and_flattened_custom_properties():
    person = legacy_person(PROFILE)
    assert STANDARD_KEYS <= person.keys() and len(STANDARD_KEYS) == 23
    assert person["object"] == "person"
    assert person["$email"] == person["email"] == "testy@rewind.io"
    assert person["$phone_number"] == "" and person["$zip"] == "" and person["$longitude"] == ""
    assert person["$latitude"] == 100.0
    assert person["created"] == "2019-03-28 13:22:35"
    assert person["updated"] == "2019-04-09 15:17:12"
    assert person["Hi"] == "Bye"


def test_metric_shape():
    metric = {
        "type": "metric",
        "id": "KDYejt",
        "attributes": {
            "name": "Opened Email",
            "created": "2019-03-28T13:22:35+00:00",
            "updated": "2019-03-28T13:22:35+00:00",
            "integration": {"id": "0rG4eQ", "name": "Klaviyo", "category": "Internal"},
        },
    }
    assert legacy_metric(metric) == {
        "object": "metric",
        "id": "KDYejt",
        "name": "Opened Email",
        "integration": {"object": "integration", "id": "0rG4eQ", "name": "Klaviyo", "category": "Internal"},
        "created": "2019-03-28 13:22:35",
        "updated": "2019-03-28 13:22:35",
    }


def test_event_shape_embeds_metric_name_and_full_person():
    document = {
        "data": [
            {
                "type": "event",
                "id": "3diypCJa",
                "attributes": {
                    "timestamp": 1554915521,
                    "datetime": "2019-04-10T16:58:41+00:00",
                    "uuid": "e45ab680-5bb1-11e9-8001-a0dcc2d8d5f1",
                    "event_properties": {"$event_id": "1554915521", "List": "First"},
                },
                "relationships": {
                    "metric": {"data": {"type": "metric", "id": "LKzxjs"}},
                    "profile": {"data": {"type": "profile", "id": PROFILE["id"]}},
                },
            }
        ],
        "included": [{"type": "metric", "id": "LKzxjs", "attributes": {"name": "Subscribed to List"}}, PROFILE],
    }
    event = legacy_event(document["data"][0], index_included(document))
    assert event["event_name"] == "Subscribed to List"
    assert event["statistic_id"] == "LKzxjs"
    assert event["timestamp"] == 1554915521
    assert event["datetime"] == "2019-04-10 16:58:41+00:00"
    assert event["person"]["$email"] == "testy@rewind.io"
    assert event["event_properties"]["$event_id"] == "1554915521"
