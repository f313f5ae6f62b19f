"""The generated legacy Python SDK (klaviyo-sdk==1.0.9.20220329), unmodified, through the proxy.

It is the one legacy client with a base-URL setting (`Client(api_key, test_host=…)`), which
is what the README tells its users to change; it sends the private key in the query and
the track/identify payloads base64-encoded (GET) or form-encoded (POST).
"""

import asyncio

import pytest
from klaviyo_sdk import Client
from swagger_client.rest import ApiException

from proxy.app import create_app
from proxy.config import Settings
from proxy.sandbox.seed import DEMO_PRIVATE_KEY, DEMO_PUBLIC_KEY


@pytest.fixture
async def sdk(aiohttp_server, contract):
    server = await aiohttp_server(create_app(Settings(), transport=contract))
    # max_retries=1: a refusal surfaces at once instead of after the SDK's backoff.
    return Client(DEMO_PRIVATE_KEY, test_host=f"http://{server.host}:{server.port}/api", max_retries=1)


async def call(function, *args, **kwargs):
    return await asyncio.to_thread(function, *args, **kwargs)


async def test_metrics_page_and_timeline(sdk):
    page = await call(sdk.Metrics.get_metrics, page=0, count=3)
    assert page["object"] == "$list" and page["page_size"] == 3 and len(page["data"]) == 3
    assert page["total"] >= 3 and page["data"][0]["object"] == "metric"
    timeline = await call(sdk.Metrics.metrics_timeline, count=2, sort="desc")
    assert timeline["count"] == 2 and all("$event_id" in event["event_properties"] for event in timeline["data"])


async def test_list_members_round_trip(sdk):
    lists = await call(sdk.ListsSegments.get_lists)
    assert lists and set(lists[0]) == {"list_id", "list_name"}
    created = await call(sdk.ListsSegments.create_list, list_name="SDK list")
    list_id = created["list_id"]
    added = await call(sdk.ListsSegments.add_members, list_id, body={"profiles": [{"email": "sdk.member@example.com"}]})
    assert [member["email"] for member in added] == ["sdk.member@example.com"]
    found = await call(sdk.ListsSegments.get_list_members, list_id, body={"emails": ["sdk.member@example.com"]})
    assert [member["id"] for member in found] == [added[0]["id"]]
    info = await call(sdk.ListsSegments.get_list_info, list_id)
    assert info["list_name"] == "SDK list"


@pytest.mark.parametrize("method", ["get", "post"])
async def test_track_and_identify_store_what_was_sent(sdk, new_api, method):
    email = f"sdk.{method}@example.com"
    track = getattr(sdk.TrackIdentify, f"track_{method}")
    identify = getattr(sdk.TrackIdentify, f"identify_{method}")
    event = {"token": DEMO_PUBLIC_KEY, "event": "SDK Event", "customer_properties": {"$email": email}, "properties": {"$value": 5}}
    assert await call(track, event) == "1"
    assert await call(identify, {"token": DEMO_PUBLIC_KEY, "properties": {"$email": email, "plan": "gold"}}) == "1"
    (profile,) = (await new_api("/api/profiles", filter=f'equals(email,"{email}")'))["data"]
    assert profile["attributes"]["properties"]["plan"] == "gold"
    found = await call(sdk.Profiles.get_profile_id, email=email)  # the SDK's model object
    assert found.to_dict() == {"id": profile["id"]}
    events = (await new_api("/api/events", filter=f'equals(profile_id,"{profile["id"]}")'))["data"]
    assert [e["attributes"]["event_properties"]["$value"] for e in events] == [5]


async def test_a_wrong_key_is_the_sdks_403(sdk, aiohttp_server, contract):
    server = await aiohttp_server(create_app(Settings(), transport=contract))
    wrong = Client("pk_" + "q" * 34, test_host=f"http://{server.host}:{server.port}/api", max_retries=1)
    with pytest.raises(ApiException) as raised:
        await call(wrong.Metrics.get_metrics)
    assert raised.value.status == 403
