"""The official legacy Python client (klaviyo==3.1.7), unmodified, through the proxy."""

import asyncio

import pytest
from klaviyo import Klaviyo
from klaviyo.exceptions import KlaviyoAuthenticationError


@pytest.fixture
def client(legacy_client):
    return legacy_client


async def call(function, *args, **kwargs):
    return await asyncio.to_thread(function, *args, **kwargs)


async def test_metrics_listing(client):
    response = await call(client.Metrics.get_metrics, page=0, count=5)
    assert response.status_code == 200
    assert response.data["object"] == "$list" and len(response.data["data"]) == 5


async def test_timelines_follow_next(client):
    first = await call(client.Metrics.get_metrics_timeline, count=10, sort="desc")
    assert first.data["count"] == 10
    second = await call(client.Metrics.get_metrics_timeline, since=first.data["next"], count=10, sort="desc")
    assert not {e["id"] for e in first.data["data"]} & {e["id"] for e in second.data["data"]}
    metric_id = first.data["data"][0]["statistic_id"]
    by_metric = await call(client.Metrics.get_metric_timeline_by_id, metric_id, count=5)
    assert {event["statistic_id"] for event in by_metric.data["data"]} == {metric_id}


@pytest.mark.parametrize("method", ["get", "post"])
async def test_track_and_identify(client, new_api, method):
    email = f"legacy.{method}@example.com"
    tracked = await call(
        client.Public.track, "Legacy Client Event", email=email, customer_properties={"$first_name": "Leg"},
        properties={"item": "book", "$value": 3}, method=method,
    )
    assert tracked.data == 1  # the client JSON-decodes the text body "1"
    identified = await call(client.Public.identify, email=email, properties={"plan": "gold"}, method=method)
    assert identified.data == 1
    (profile,) = (await new_api("/api/profiles", filter=f'equals(email,"{email}")'))["data"]
    assert profile["attributes"]["first_name"] == "Leg"
    assert profile["attributes"]["properties"]["plan"] == "gold"


async def test_track_once(client, new_api):
    for _ in range(2):
        response = await call(client.Public.track_once, "Signed Up", email="legacy.once@example.com")
        assert response.data == 1
    (profile,) = (await new_api("/api/profiles", filter='equals(email,"legacy.once@example.com")'))["data"]
    events = await new_api("/api/events", filter=f'equals(profile_id,"{profile["id"]}")')
    assert len(events["data"]) == 1


async def test_a_wrong_key_raises_the_clients_auth_error(client):
    client_with_bad_key = Klaviyo(private_token="pk_" + "q" * 34)
    with pytest.raises(KlaviyoAuthenticationError):
        await call(client_with_bad_key.Metrics.get_metrics)
