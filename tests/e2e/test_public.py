import base64
import json

import pytest

from proxy.sandbox.seed import DEMO_PRIVATE_KEY as PRIVATE_KEY
from proxy.sandbox.seed import DEMO_PUBLIC_KEY as PUBLIC_KEY


def b64(payload) -> str:
    return base64.b64encode(json.dumps(payload).encode()).decode()


def track_payload(email="ada@example.com", event="Harness Event", **extra):
    return {"token": PUBLIC_KEY, "event": event, "customer_properties": {"$email": email}, "properties": {"item": "book"}, **extra}


async def events_of(new_api, email: str, metric_name: str) -> list[dict]:
    profiles = (await new_api("/api/profiles", filter=f'equals(email,"{email}")'))["data"]
    if not profiles:
        return []
    document = await new_api("/api/events", filter=f'equals(profile_id,"{profiles[0]["id"]}")', include="metric")
    names = {item["id"]: item["attributes"]["name"] for item in document.get("included", [])}
    return [e for e in document["data"] if names.get(e["relationships"]["metric"]["data"]["id"]) == metric_name]


async def assert_one(response):
    assert response.status == 200
    assert await response.text() == "1"
    assert response.content_type == "text/html"


async def test_get_track_with_base64_data_lands_in_the_sandbox(proxy, new_api, contract):
    payload = track_payload(email="get.track@example.com", properties={"$value": 9.99, "item": "book"}, time=1650024000)
    await assert_one(await proxy.get("/api/track", params={"data": b64(payload), "test": "0"}))
    (event,) = await events_of(new_api, "get.track@example.com", "Harness Event")
    assert event["attributes"]["timestamp"] == 1650024000
    assert event["attributes"]["event_properties"]["item"] == "book"
    (request,) = contract.requests
    assert (request.method, request.path) == ("POST", "/client/events")
    assert ("company_id", PUBLIC_KEY) in request.query
    assert request.header("Authorization") is None


async def test_post_form_with_raw_json_and_unprefixed_email(proxy, new_api):
    payload = {"token": PUBLIC_KEY, "event": "Harness Event", "properties": {"item": "pen"}, "customer_properties": {"email": "post.form@example.com"}}
    response = await proxy.post("/api/track", data={"data": json.dumps(payload)}, headers={"Accept": "text/html"})
    await assert_one(response)
    assert len(await events_of(new_api, "post.form@example.com", "Harness Event")) == 1


async def test_post_chunked_form_without_content_length(proxy, new_api):
    body = ("data=" + json.dumps(track_payload(email="chunked@example.com")).replace("+", "%2B")).encode()

    async def chunks():
        yield body[:10]
        yield body[10:]

    response = await proxy.post("/api/track", data=chunks(), headers={"Content-Type": "application/x-www-form-urlencoded"})
    await assert_one(response)
    assert len(await events_of(new_api, "chunked@example.com", "Harness Event")) == 1


async def test_a_plain_json_body_is_accepted(proxy, new_api):
    response = await proxy.post("/api/track", json=track_payload(email="php@example.com"))
    await assert_one(response)
    assert len(await events_of(new_api, "php@example.com", "Harness Event")) == 1


async def test_bursts_in_the_same_second_are_not_merged(proxy, new_api):
    for item in ("book", "pen", "ink"):
        payload = track_payload(email="burst@example.com", time=1650024000, properties={"item": item})
        await assert_one(await proxy.get("/api/track", params={"data": b64(payload)}))
    assert len(await events_of(new_api, "burst@example.com", "Harness Event")) == 3


async def test_a_retried_payload_without_event_id_is_one_event(proxy, new_api):
    """A client retrying after an ambiguous failure sends the same payload again: with its
    own `time` it is the same event whenever it is resent (legacy de-duplication defaulted
    to the event time). Without a `time` the receipt second stands in, which a retry only
    shares by chance, so that case is pinned where the clock is fixed (tests/unit)."""
    payload = track_payload(email="retry.no.id@example.com", time=1650024000)
    for _ in range(2):
        await assert_one(await proxy.get("/api/track", params={"data": b64(payload)}))
    assert len(await events_of(new_api, "retry.no.id@example.com", "Harness Event")) == 1


async def test_track_once_is_recorded_once(proxy, new_api):
    payload = track_payload(email="once@example.com", time=None, properties={"__track_once__": True})
    for _ in range(2):
        await assert_one(await proxy.post("/api/track", data={"data": json.dumps(payload)}))
    assert len(await events_of(new_api, "once@example.com", "Harness Event")) == 1


async def test_event_id_deduplicates_retries(proxy, new_api):
    payload = track_payload(email="retry@example.com", properties={"$event_id": "order-7"})
    for _ in range(2):
        await assert_one(await proxy.get("/api/track", params={"data": b64(payload)}))
    assert len(await events_of(new_api, "retry@example.com", "Harness Event")) == 1


async def test_the_callers_event_id_comes_back_in_the_timeline(proxy, new_api):
    """The new API never returns `unique_id` (the sandbox does not echo it either), so the
    caller's `$event_id` must travel in the properties to be read back as legacy showed it."""
    payload = track_payload(email="event.id@example.com", properties={"$event_id": "order-8", "item": "pen"})
    await assert_one(await proxy.get("/api/track", params={"data": b64(payload)}))
    (event,) = await events_of(new_api, "event.id@example.com", "Harness Event")
    timeline = await (await proxy.get(f"/api/v1/person/{event['relationships']['profile']['data']['id']}/metrics/timeline",
                                      params={"api_key": PRIVATE_KEY})).json()
    assert [e["event_properties"]["$event_id"] for e in timeline["data"]] == ["order-8"]


async def test_an_event_without_its_own_id_shows_the_events_id(proxy, new_api):
    await assert_one(await proxy.get("/api/track", params={"data": b64(track_payload(email="no.id@example.com"))}))
    (event,) = await events_of(new_api, "no.id@example.com", "Harness Event")
    assert "$event_id" not in event["attributes"]["event_properties"]  # the hash stays a de-duplication key
    profile_id = event["relationships"]["profile"]["data"]["id"]
    timeline = await (await proxy.get(f"/api/v1/person/{profile_id}/metrics/timeline", params={"api_key": PRIVATE_KEY})).json()
    assert [e["event_properties"]["$event_id"] for e in timeline["data"]] == [event["id"]]


@pytest.mark.parametrize(
    "params",
    [
        {"data": "%%%not-base64"},
        {"data": base64.b64encode(b"{not json").decode()},
        {"data": b64(["a", "list"])},
        {"data": b64({"event": "No token", "customer_properties": {"$email": "a@b.c"}})},
        {"data": b64({"token": PUBLIC_KEY, "customer_properties": {"$email": "a@b.c"}})},
        {"data": b64({"token": PUBLIC_KEY, "event": "No identity", "customer_properties": {}})},
        {},
    ],
)
async def test_unreadable_track_calls_answer_zero(proxy, contract, params):
    response = await proxy.get("/api/track", params=params)
    assert response.status == 200
    assert await response.text() == "0"
    assert contract.requests == []


async def test_malformed_post_body_answers_zero(proxy):
    response = await proxy.post("/api/track", data=b"{broken", headers={"Content-Type": "application/json"})
    assert await response.text() == "0"


async def test_identify_get_and_post_update_the_profile(proxy, new_api):
    payload = {"token": PUBLIC_KEY, "properties": {"$email": "identify@example.com", "$first_name": "Harness", "plan": "gold"}}
    await assert_one(await proxy.get("/api/identify", params={"data": b64(payload), "test": "0"}))
    payload["properties"] = {"email": "identify@example.com", "plan": "platinum"}
    await assert_one(await proxy.post("/api/identify", data={"data": json.dumps(payload)}))
    (profile,) = (await new_api("/api/profiles", filter='equals(email,"identify@example.com")'))["data"]
    assert profile["attributes"]["first_name"] == "Harness"
    assert profile["attributes"]["properties"]["plan"] == "platinum"


@pytest.mark.parametrize(
    ("changes", "moved_to", "kept"),
    [
        ({"properties": {"item": "book", "$value": "twelve"}}, "unusable_value", "twelve"),
        ({"properties": {"item": "book", "$value": "NaN"}}, "unusable_value", "NaN"),
        ({"properties": {"item": "book", "$value": "1e309"}}, "unusable_value", "1e309"),
        ({"time": 315532799}, "unusable_time", 315532799),  # 1979: Klaviyo takes events after 1990 only
        ({"time": 4102444800}, "unusable_time", 4102444800),  # 2100: more than a year ahead
        ({"time": "last tuesday"}, "unusable_time", "last tuesday"),
    ],
)
async def test_one_unusable_event_field_keeps_the_event(proxy, new_api, capsys, changes, moved_to, kept):
    """Issue 11 item 3 / issue 16 item 8: answered `1`, stored, the value kept as a custom
    property, a warning naming the field (never the value); never a silent null."""
    email = "degraded.event@example.com"
    await assert_one(await proxy.post("/api/track", data={"data": json.dumps(track_payload(email=email, **changes))}))
    (event,) = await events_of(new_api, email, "Harness Event")
    properties = event["attributes"]["event_properties"]
    assert properties[moved_to] == kept and properties["item"] == "book"
    assert "$value" not in properties
    warnings = [json.loads(line) for line in capsys.readouterr().out.splitlines() if "unusable_field" in line]
    assert [(w["field"], w["property"]) for w in warnings] == [("$value" if "value" in moved_to else "time", moved_to)]
    assert str(kept) not in json.dumps(warnings)


@pytest.mark.parametrize(
    ("customer", "field"),
    [
        ({"$email": "degraded.phone@example.com", "$phone_number": "(555) 010-0100"}, "phone_number"),
        ({"$email": "not an email", "$id": "crm-degraded"}, "email"),
    ],
)
async def test_an_unusable_identifier_beside_a_usable_one_keeps_the_event(proxy, sandbox, customer, field):
    payload = {"token": PUBLIC_KEY, "event": "Harness Event", "customer_properties": customer, "properties": {}}
    await assert_one(await proxy.get("/api/track", params={"data": b64(payload)}))
    account = sandbox.account(PUBLIC_KEY)
    profile = account.profiles.find("email", customer["$email"]) or account.profiles.find("external_id", "crm-degraded")
    assert getattr(profile, field) is None
    assert profile.properties["unusable_" + field] == customer["$" + field]
    assert any(event.profile_id == profile.id for event in account.events)


async def test_identify_keeps_the_profile_when_the_phone_is_unusable(proxy, new_api):
    properties = {"$email": "degraded.identify@example.com", "$phone_number": "555-0100", "plan": "gold"}
    await assert_one(await proxy.get("/api/identify", params={"data": b64({"token": PUBLIC_KEY, "properties": properties})}))
    (profile,) = (await new_api("/api/profiles", filter='equals(email,"degraded.identify@example.com")'))["data"]
    assert profile["attributes"]["phone_number"] is None
    assert profile["attributes"]["properties"] == {"plan": "gold", "unusable_phone_number": "555-0100"}


async def test_exchange_id_identifies_track_and_identify(proxy, sandbox):
    """Issue 11 item 4: `$exchange_id` (the `_kx` of Klaviyo links) is an identifier."""
    account = sandbox.account(PUBLIC_KEY)
    known = next(profile for profile in account.profiles if profile.kx)
    track = {"token": PUBLIC_KEY, "event": "Clicked Link", "customer_properties": {"$exchange_id": known.kx}, "properties": {}}
    await assert_one(await proxy.get("/api/track", params={"data": b64(track)}))
    assert any(e.profile_id == known.id and account.metrics.get(e.metric_id).name == "Clicked Link" for e in account.events)
    identify = {"token": PUBLIC_KEY, "$exchange_id": known.kx, "properties": {"came_back": True}}
    await assert_one(await proxy.get("/api/identify", params={"data": b64(identify)}))
    assert known.properties["came_back"] is True


async def test_integers_past_64_bits_are_kept_exactly(proxy, new_api):
    """Issue 11 item 5: never rounded to a float; forwarded as the string of its digits."""
    digits = "123456789012345678901234567890"
    raw = '{"token": "%s", "event": "Harness Event", "customer_properties": {"$email": "big.int@example.com", "account": %s},' \
          ' "properties": {"order_id": %s, "$value": %s, "small": 18446744073709551615}}' % (PUBLIC_KEY, digits, digits, digits)
    await assert_one(await proxy.post("/api/track", data={"data": raw}))
    (event,) = await events_of(new_api, "big.int@example.com", "Harness Event")
    properties = event["attributes"]["event_properties"]
    assert properties["order_id"] == digits and properties["unusable_value"] == digits
    assert properties["small"] == 18446744073709551615
    (profile,) = (await new_api("/api/profiles", filter='equals(email,"big.int@example.com")'))["data"]
    assert profile["attributes"]["properties"]["account"] == digits


async def test_email_case_and_blanks_name_one_person_everywhere(proxy, new_api):
    """Issue 11 item 10: written as ` Mixed.Case@Example.com `, found as mixed.case@example.com."""
    payload = track_payload(email=" Mixed.Case@Example.COM ")
    await assert_one(await proxy.get("/api/track", params={"data": b64(payload)}))
    identify = {"token": PUBLIC_KEY, "properties": {"email": "MIXED.case@example.com", "plan": "gold"}}
    await assert_one(await proxy.get("/api/identify", params={"data": b64(identify)}))
    (profile,) = (await new_api("/api/profiles", filter='equals(email,"mixed.case@example.com")'))["data"]
    assert profile["attributes"]["properties"] == {"plan": "gold"}
    found = await proxy.get("/api/v2/people/search", params={"api_key": PRIVATE_KEY, "email": "Mixed.Case@EXAMPLE.com"})
    assert await found.json() == {"id": profile["id"]}


async def test_identify_without_identifier_answers_zero(proxy):
    payload = {"token": PUBLIC_KEY, "properties": {"plan": "gold"}}
    assert await (await proxy.get("/api/identify", params={"data": b64(payload)})).text() == "0"


async def test_sidecar_key_sends_track_and_identify_to_private_endpoints(make_proxy, contract, new_api):
    proxy = await make_proxy(private_key=PRIVATE_KEY)
    await assert_one(await proxy.get("/api/track", params={"data": b64(track_payload(email="sidecar@example.com"))}))
    await assert_one(await proxy.get("/api/identify", params={"data": b64({"token": PUBLIC_KEY, "properties": {"$email": "sidecar@example.com", "tier": "x"}})}))
    assert [(r.method, r.path) for r in contract.requests] == [("POST", "/api/events"), ("POST", "/api/profile-import")]
    assert all(r.header("Authorization") == f"Klaviyo-API-Key {PRIVATE_KEY}" for r in contract.requests)
    assert len(await events_of(new_api, "sidecar@example.com", "Harness Event")) == 1


async def test_pixel_mode(proxy):
    response = await proxy.get("/api/track", params={"data": b64(track_payload()), "i": "1"})
    assert response.content_type == "image/gif"
    assert (await response.read()).startswith(b"GIF89a")
