"""Events: recording (with Klaviyo's de-duplication), listing, filtering, paging, includes."""

from __future__ import annotations

import base64
from datetime import datetime, timezone

import pytest
from sandbox_helpers import event_body, next_params

from proxy.sandbox import DEMO_PRIVATE_KEY, DEMO_PUBLIC_KEY, demo_sandbox


def iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, timezone.utc).isoformat()


async def record(api, **attributes) -> None:
    answer = await api.post("/api/events", event_body(**attributes))
    assert (answer.status, answer.body) == (202, b""), answer.json


async def test_recording_creates_the_metric_the_profile_and_the_event(api, acme, clock):
    clock.advance(0.75)
    await record(api, email="ada@example.com", metric="Placed Order", properties={"sku": "A1"}, value=9.5,
                 value_currency="USD", unique_id="order-1", profile={"email": "ada@example.com", "first_name": "Ada"})
    (event,) = acme.events
    metric = acme.metrics.get(event.metric_id)
    profile = acme.profiles.get(event.profile_id)
    assert (metric.name, metric.integration.name, metric.integration.category) == ("Placed Order", "API", "API")
    assert (profile.email, profile.first_name) == ("ada@example.com", "Ada")
    assert event.timestamp == int(clock.now)  # truncated to the second
    assert event.event_properties == {"sku": "A1", "$value": 9.5, "$value_currency": "USD"}  # unique_id not echoed
    assert event.unique_id == "order-1"
    assert profile.last_event_date == event.timestamp
    assert len(event.id) == 26


async def test_client_events_are_recorded_like_server_events(api, acme):
    answer = await api.post("/client/events", event_body(email="web@example.com", metric="Viewed Product"))
    assert (answer.status, answer.body) == (202, b"")
    assert [acme.metrics.get(e.metric_id).name for e in acme.events] == ["Viewed Product"]


async def test_an_existing_metric_and_profile_are_reused(api, acme, clock):
    await record(api, email="Ada@Example.com")
    clock.advance(1)
    await record(api, email="ada@example.com")
    assert (len(acme.events), len(acme.metrics), len(acme.profiles)) == (2, 1, 1)


async def test_api_events_do_not_join_another_integrations_metric(loaded_spec, client_for):
    demo = demo_sandbox(spec=loaded_spec)
    (account,) = demo.accounts
    await record(client_for(demo, DEMO_PRIVATE_KEY, DEMO_PUBLIC_KEY), metric="Placed Order")
    placed = [m.integration.name for m in account.metrics if m.name == "Placed Order"]
    assert sorted(placed) == ["API", "Shopify"]


async def test_a_repeated_unique_id_is_dropped(api, acme, clock):
    await record(api, unique_id="order-1", properties={"try": 1})
    clock.advance(5)
    await record(api, unique_id="order-1", properties={"try": 2})
    assert [e.event_properties["try"] for e in acme.events] == [1]


async def test_without_unique_id_one_event_per_profile_metric_and_second(api, acme, clock):
    clock.advance(0.1)
    await record(api, properties={"n": 1})
    clock.advance(0.5)  # same second: dropped, as Klaviyo does
    await record(api, properties={"n": 2})
    await record(api, metric="Other", properties={"n": 3})
    await record(api, email="grace@example.com", properties={"n": 4})
    clock.advance(1)
    await record(api, properties={"n": 5})
    assert sorted(e.event_properties["n"] for e in acme.events) == [1, 3, 4, 5]


async def test_explicit_time_sets_the_timestamp(api, acme):
    await record(api, time="2023-01-02T03:04:05.900+01:00")
    (event,) = acme.events
    assert event.timestamp == int(datetime(2023, 1, 2, 2, 4, 5, tzinfo=timezone.utc).timestamp())


@pytest.mark.parametrize("time", ["1989-12-31T00:00:00Z", "2025-01-01T00:00:00Z"])
async def test_event_times_outside_klaviyos_range_are_rejected(api, time):
    answer = await api.post("/api/events", event_body(time=time))
    assert answer.status == 400
    assert answer.error["source"] == {"pointer": "/data/attributes/time"}


async def test_an_event_needs_a_profile_identifier(api, acme):
    answer = await api.post("/api/events", event_body(profile={"first_name": "Nobody"}))
    assert answer.status == 400
    assert len(acme.profiles) == 0


@pytest.fixture
async def timeline(api, acme, clock):
    """Eleven events: three pairs share a second, across two metrics and two profiles."""
    for index, offset in enumerate([0, 0, 10, 20, 20, 30, 40, 40, 50, 60, 70]):
        await record(api, email=f"p{index % 2}@example.com", metric=f"M{index % 2}",
                     time=iso(clock.now - 1000 + offset), unique_id=str(index))
    return sorted(acme.events, key=lambda event: (event.timestamp, event.id))


@pytest.mark.parametrize("sort", ["datetime", "-datetime", "timestamp", "-timestamp"])
@pytest.mark.parametrize("size", [1, 2, 3, 5])
async def test_cursor_walks_never_skip_or_repeat(api, timeline, sort, size):
    walked = await api.walk("/api/events", {"sort": sort, "page[size]": str(size)})
    expected = timeline[::-1] if sort.startswith("-") else timeline
    assert [item["id"] for item in walked] == [event.id for event in expected]


async def test_a_page_keeps_its_place_when_events_arrive_between_pages(api, timeline, clock):
    first = await api.get("/api/events", {"page[size]": "4"})
    await record(api, email="late@example.com", time=iso(timeline[0].timestamp))  # sorts before the cursor
    rest = await api.walk("/api/events", next_params(first.json))
    assert [i["id"] for i in first.data + rest] == [e.id for e in timeline]


async def test_next_links_keep_every_parameter_and_stop_on_the_last_page(api, timeline):
    params = {"filter": "has(profile)", "sort": "-datetime", "page[size]": "10", "fields[event]": "timestamp"}
    first = await api.get("/api/events", params)
    assert first.json["links"]["self"].startswith("https://a.klaviyo.com/api/events?")
    following = next_params(first.json)
    assert following.pop("page[cursor]")
    assert following == params
    last = await api.get("/api/events", next_params(first.json))
    assert len(last.data) == 1 and "next" not in last.json["links"]


async def test_page_size_defaults_to_200(api, acme, clock):
    for second in range(201):
        await record(api, time=iso(clock.now - second))
    assert len((await api.get("/api/events")).data) == 200


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        base64.urlsafe_b64encode(b'{"a":1}').decode(),
        base64.urlsafe_b64encode(b'["timestamp",["not a number","id"]]').decode(),
    ],
)
async def test_a_foreign_cursor_is_rejected(api, timeline, cursor):
    answer = await api.get("/api/events", {"page[cursor]": cursor})
    assert answer.status == 400
    assert answer.error["source"] == {"parameter": "page[cursor]"}


async def test_a_cursor_only_serves_the_sort_it_was_made_for(api, timeline):
    first = await api.get("/api/events", {"page[size]": "2", "sort": "datetime"})
    cursor = next_params(first.json)["page[cursor]"]
    answer = await api.get("/api/events", {"page[size]": "2", "sort": "-datetime", "page[cursor]": cursor})
    assert answer.status == 400


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("equals(metric_id,'{m0}')", lambda e, ids: e.metric_id == ids["m0"]),
        ("equals(metric_id,['{m0}','{m1}'])", lambda e, ids: True),
        ("equals(profile_id,'{p1}')", lambda e, ids: e.profile_id == ids["p1"]),
        ("greater-or-equal(timestamp,{t20})", lambda e, ids: e.timestamp >= ids["t20"]),
        ("less-than(datetime,{d20})", lambda e, ids: e.timestamp < ids["t20"]),
        ("and(greater-than(datetime,{d20}),less-or-equal(timestamp,{t40}))",
         lambda e, ids: ids["t20"] < e.timestamp <= ids["t40"]),
        ("has(profile),has(metric)", lambda e, ids: True),
        ("equals(metric_id,'{m1}'),equals(profile_id,'{p0}')", lambda e, ids: False),
    ],
)
@pytest.mark.parametrize("sort", ["timestamp", "-timestamp"])
async def test_filters(api, acme, timeline, expression, expected, sort):
    t20 = timeline[3].timestamp
    ids = {
        "m0": acme.metrics.find("M0", "API").id,
        "m1": acme.metrics.find("M1", "API").id,
        "p0": acme.profiles.find("email", "p0@example.com").id,
        "p1": acme.profiles.find("email", "p1@example.com").id,
        "t20": t20,
        "t40": t20 + 20,
        "d20": iso(t20).replace("+00:00", "Z"),
    }
    walked = await api.walk("/api/events", {"filter": expression.format(**ids), "page[size]": "2", "sort": sort})
    matching = [e.id for e in timeline if expected(e, ids)]
    assert [item["id"] for item in walked] == (matching[::-1] if sort.startswith("-") else matching)


async def test_include_metric_and_profile(api, acme, timeline):
    answer = await api.get("/api/events", {"include": "metric,profile", "page[size]": "3"})
    included = {(item["type"], item["id"]) for item in answer.json["included"]}
    for item in answer.data:
        event = acme.events.get(item["id"])
        assert item["relationships"]["metric"]["data"] == {"type": "metric", "id": event.metric_id}
        assert item["relationships"]["profile"]["data"] == {"type": "profile", "id": event.profile_id}
        assert {("metric", event.metric_id), ("profile", event.profile_id)} <= included
    assert len(answer.json["included"]) == len(included)  # each related resource once


async def test_get_one_event_with_sparse_fields(api, timeline):
    event = timeline[0]
    answer = await api.get(f"/api/events/{event.id}", {"fields[event]": "timestamp,uuid", "include": "metric"})
    assert answer.data["attributes"] == {"timestamp": event.timestamp, "uuid": event.uuid}
    assert answer.json["links"]["self"] == f"https://a.klaviyo.com/api/events/{event.id}"
    assert [item["id"] for item in answer.json["included"]] == [event.metric_id]


async def test_an_unknown_event_is_404(api):
    assert (await api.get("/api/events/01HZZZZZZZZZZZZZZZZZZZZZZZ")).status == 404
