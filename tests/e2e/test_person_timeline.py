"""Person timelines: /api/v1/person/{id}/metrics/timeline and /metric/{metric_id}/timeline."""

import pytest

from proxy.sandbox.seed import DEMO_PRIVATE_KEY as PRIVATE_KEY
from proxy.sandbox.seed import DEMO_PUBLIC_KEY as PUBLIC_KEY
from proxy.sandbox.store import Event

EVENT_KEYS = ["object", "id", "uuid", "event_name", "statistic_id", "timestamp", "datetime", "event_properties", "person"]
CROWDED_SECOND = 1_700_000_000
CROWD = 9  # events of one person in one second


@pytest.fixture
def crowded(sandbox):
    """A person with nine events of two metrics in one second, beside their seeded events."""
    account = sandbox.account(PUBLIC_KEY)
    profile = next(iter(account.profiles))
    metrics = list(account.metrics)[:2]
    for index in range(CROWD):
        event_id = f"01HCROWD{index:018d}"
        metric = metrics[index % 2]
        account.events.add(Event(event_id, metric.id, profile.id, CROWDED_SECOND, f"uuid-{index}", {"n": index}, event_id))
    return profile, metrics[0]


async def walk(proxy, path: str, **params) -> list[dict]:
    """Every event, following `next` tokens to the end."""
    events, since = [], params.pop("since")
    while since is not None:
        response = await proxy.get(path, params={"api_key": PRIVATE_KEY, **params, "since": since})
        assert response.status == 200, await response.text()
        body = await response.json()
        assert list(body) == ["object", "count", "data", "next"] and body["count"] == len(body["data"])
        events += body["data"]
        since = body["next"]
    return events


async def profile_event_ids(new_api, *conditions: str) -> list[str]:
    filter_ = conditions[0] if len(conditions) == 1 else f"and({','.join(conditions)})"
    document = await new_api("/api/events", filter=filter_, **{"page[size]": "1000", "sort": "timestamp"})
    return [event["id"] for event in document["data"]]


@pytest.mark.parametrize(("sort", "since"), [("asc", "1"), ("desc", "9999999999")])
async def test_paging_a_person_never_skips_or_repeats_events_of_one_second(proxy, new_api, crowded, sort, since):
    profile, _ = crowded
    path = f"/api/v1/person/{profile.id}/metrics/timeline"
    events = await walk(proxy, path, since=since, sort=sort, count="2")
    ids = [event["id"] for event in events]
    expected = await profile_event_ids(new_api, f'equals(profile_id,"{profile.id}")')
    assert len(ids) == len(set(ids)) and sorted(ids) == sorted(expected)
    assert sum(event["timestamp"] == CROWDED_SECOND for event in events) == CROWD
    stamps = [event["timestamp"] for event in events]
    assert stamps == sorted(stamps, reverse=(sort == "desc"))
    assert {event["person"]["id"] for event in events} == {profile.id}


@pytest.mark.parametrize(("sort", "since"), [("asc", "1"), ("desc", "9999999999")])
async def test_one_metric_of_one_person(proxy, new_api, crowded, sort, since):
    profile, metric = crowded
    path = f"/api/v1/person/{profile.id}/metric/{metric.id}/timeline"
    events = await walk(proxy, path, since=since, sort=sort, count="2")
    expected = await profile_event_ids(new_api, f'equals(profile_id,"{profile.id}")', f'equals(metric_id,"{metric.id}")')
    assert sorted(event["id"] for event in events) == sorted(expected) and len(events) == len(expected)
    assert {event["statistic_id"] for event in events} == {metric.id}
    assert {event["event_name"] for event in events} == {metric.name}


async def test_the_default_page_is_the_newest_fifty_with_legacy_events(proxy, crowded):
    profile, _ = crowded
    response = await proxy.get(f"/api/v1/person/{profile.id}/metrics/timeline", params={"api_key": PRIVATE_KEY})
    body = await response.json()
    assert 0 < body["count"] <= 50
    event = body["data"][0]
    assert list(event) == EVENT_KEYS
    assert isinstance(event["timestamp"], int) and event["datetime"].endswith("+00:00")
    assert event["person"]["object"] == "person" and event["person"]["$email"] == profile.email


async def test_since_bounds_a_person_timeline(proxy, crowded):
    profile, _ = crowded
    path = f"/api/v1/person/{profile.id}/metrics/timeline"
    later = await walk(proxy, path, since=str(CROWDED_SECOND + 1), sort="asc", count="100")
    assert later and all(event["timestamp"] > CROWDED_SECOND for event in later)


async def test_an_unknown_person_has_an_empty_timeline(proxy):
    response = await proxy.get("/api/v1/person/01HZZZZZZZZZZZZZZZZZZZZZZZ/metrics/timeline", params={"api_key": PRIVATE_KEY})
    assert await response.json() == {"object": "$list", "count": 0, "data": [], "next": None}
