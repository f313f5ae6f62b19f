import pytest

from proxy.sandbox.seed import DEMO_PRIVATE_KEY as PRIVATE_KEY

EVENT_KEYS = {"object", "id", "uuid", "event_name", "statistic_id", "timestamp", "datetime", "event_properties", "person"}


async def walk(proxy, path, **params):
    """Follow `next` tokens to the end; return every event in order."""
    events, since = [], params.pop("since", None)
    for _ in range(500):
        query = {"api_key": PRIVATE_KEY, **params, **({"since": since} if since is not None else {})}
        response = await proxy.get(path, params=query)
        assert response.status == 200, await response.text()
        body = await response.json()
        assert list(body) == ["object", "count", "data", "next"]
        assert body["count"] == len(body["data"])
        events += body["data"]
        since = body["next"]
        if since is None:
            return events
    raise AssertionError("timeline never ended")


async def count_events(new_api, **filters) -> int:
    total, cursor = 0, None
    while True:
        query = {"page[size]": "1000", **filters, **({"page[cursor]": cursor} if cursor else {})}
        document = await new_api("/api/events", **query)
        total += len(document["data"])
        next_url = (document.get("links") or {}).get("next")
        if not next_url:
            return total
        from proxy.upstream.client import cursor_of

        cursor = cursor_of(next_url)


async def test_default_timeline_is_newest_first_with_full_events(proxy):
    response = await proxy.get("/api/v1/metrics/timeline", params={"api_key": PRIVATE_KEY})
    body = await response.json()
    assert body["object"] == "$list" and body["count"] == 50 and isinstance(body["next"], str)
    stamps = [event["timestamp"] for event in body["data"]]
    assert stamps == sorted(stamps, reverse=True)
    event = body["data"][0]
    assert set(event) == EVENT_KEYS
    assert event["object"] == "event" and event["event_name"] and event["statistic_id"]
    assert event["datetime"].endswith("+00:00") and len(event["datetime"]) == 25
    assert event["person"]["object"] == "person" and "$email" in event["person"]


@pytest.mark.parametrize("sort", ["asc", "desc"])
async def test_paging_never_skips_or_repeats_events(proxy, new_api, sort):
    events = await walk(proxy, "/api/v1/metrics/timeline", since="1", sort=sort, count="7") if sort == "asc" else await walk(
        proxy, "/api/v1/metrics/timeline", since="9999999999", sort=sort, count="7"
    )
    ids = [event["id"] for event in events]
    assert len(ids) == len(set(ids)) == await count_events(new_api)
    stamps = [event["timestamp"] for event in events]
    assert stamps == sorted(stamps, reverse=(sort == "desc"))
    assert len(stamps) > len(set(stamps)), "the demo data should have events sharing a second"


async def test_since_bounds_the_timeline(proxy):
    everything = await walk(proxy, "/api/v1/metrics/timeline", since="1", sort="asc", count="100")
    middle = everything[len(everything) // 2]["timestamp"]
    later = await walk(proxy, "/api/v1/metrics/timeline", since=str(middle), sort="asc", count="100")
    assert later and all(event["timestamp"] >= middle for event in later)
    assert len(later) == sum(1 for event in everything if event["timestamp"] >= middle)


async def test_metric_timeline_holds_only_that_metric(proxy, new_api):
    metric = (await new_api("/api/metrics"))["data"][0]
    events = await walk(proxy, f"/api/v1/metric/{metric['id']}/timeline", since="1", sort="asc", count="100")
    assert events and {event["statistic_id"] for event in events} == {metric["id"]}
    assert {event["event_name"] for event in events} == {metric["attributes"]["name"]}
    assert len(events) == await count_events(new_api, filter=f'equals(metric_id,"{metric["id"]}")')


async def test_unknown_since_token_is_a_v1_400(proxy):
    response = await proxy.get("/api/v1/metrics/timeline", params={"api_key": PRIVATE_KEY, "since": "not-a-token"})
    assert response.status == 400
    assert (await response.json())["message"].startswith("Invalid value for since")


@pytest.mark.parametrize("metric_id", ["..", "a%2F..%2Fprofiles", "a%22)", "%2e%2e", "x%0d%0aHost:evil"])
async def test_hostile_ids_never_reach_upstream(proxy, contract, metric_id):
    response = await proxy.get(f"/api/v1/metric/{metric_id}/timeline", params={"api_key": PRIVATE_KEY})
    assert response.status == 404
    assert await response.json() == {"status": 404, "message": "The requested resource does not exist."}
    assert contract.requests == []


@pytest.mark.parametrize("sort", ["asc", "desc"])
async def test_next_leads_with_the_unix_time_of_the_next_event(proxy, sort):
    """Legacy data libraries read the time before the dash to decide when to stop paging."""
    since = "1" if sort == "asc" else "9999999999"
    query = {"api_key": PRIVATE_KEY, "since": since, "sort": sort, "count": "5"}
    pages = []
    for _ in range(4):
        body = await (await proxy.get("/api/v1/metrics/timeline", params=query)).json()
        pages.append(body)
        query["since"] = body["next"]
    for page, following in zip(pages, pages[1:]):
        leading, dash, _ = page["next"].partition("-")
        assert dash and int(leading) == following["data"][0]["timestamp"]


@pytest.mark.parametrize("since", ["1400656845-ABCDEFG", "e45ab680-5bb1-11e9-8001-a0dcc2d8d5f1"])
async def test_legacy_token_forms_resume_from_their_time(proxy, since):
    response = await proxy.get("/api/v1/metrics/timeline", params={"api_key": PRIVATE_KEY, "since": since, "sort": "asc"})
    assert response.status == 200, await response.text()
    body = await response.json()
    assert body["data"] and all(event["timestamp"] >= 1400656845 for event in body["data"])


@pytest.mark.parametrize("since", ["inf", "1e309", "1e30", "nan", "2f1e6f3c-9f7a-4a4e-9d7e-3c2b1a0f9e8d"])
async def test_junk_since_is_a_legacy_400_never_a_500(proxy, since):
    response = await proxy.get("/api/v1/metrics/timeline", params={"api_key": PRIVATE_KEY, "since": since})
    assert response.status == 400
    assert (await response.json())["message"].startswith("Invalid value for since")


async def test_every_event_carries_an_event_id(proxy):
    events = await walk(proxy, "/api/v1/metrics/timeline", since="1", sort="asc", count="100")
    assert all(event["event_properties"].get("$event_id") for event in events)
    # Events tracked without one carry their own unique id, the same on every read.
    without = [event for event in events if event["event_properties"]["$event_id"] == event["id"]]
    assert without
    again = await walk(proxy, "/api/v1/metrics/timeline", since="1", sort="asc", count="100")
    assert [e["event_properties"]["$event_id"] for e in again] == [e["event_properties"]["$event_id"] for e in events]
