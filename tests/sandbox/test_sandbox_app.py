"""The sandbox served over HTTP."""

from __future__ import annotations

import pytest
from sandbox_helpers import profile_body

from proxy.sandbox import DEMO_PRIVATE_KEY, DEMO_PUBLIC_KEY, build_app, demo_sandbox

HEADERS = {"revision": "2026-07-15", "Authorization": f"Klaviyo-API-Key {DEMO_PRIVATE_KEY}"}


@pytest.fixture
async def http(aiohttp_client, loaded_spec, clock):
    return await aiohttp_client(build_app(demo_sandbox(spec=loaded_spec, clock=clock)))


async def test_requests_and_answers_pass_through(http):
    response = await http.get("/api/metrics", params={"filter": "equals(integration.name,'API')"}, headers=HEADERS)
    assert response.status == 200
    assert response.headers["Content-Type"] == "application/vnd.api+json"
    assert response.headers["RateLimit-Limit"] == "150"
    assert {m["attributes"]["name"] for m in (await response.json(content_type=None))["data"]} == {
        "Viewed Product", "Active on Site",
    }


async def test_paths_stay_percent_encoded(http):
    response = await http.get("/api/profiles/abc%2Fdef", headers=HEADERS)
    assert response.status == 404
    assert "'abc/def'" in (await response.json(content_type=None))["errors"][0]["detail"]


async def test_state_counts_what_requests_changed(http):
    body = profile_body({"email": "new@example.com"})
    headers = {"revision": "2026-07-15", "Content-Type": "application/vnd.api+json"}
    response = await http.post("/client/profiles", params={"company_id": DEMO_PUBLIC_KEY}, json=body, headers=headers)
    assert response.status == 202 and await response.read() == b""
    state = await (await http.get("/__sandbox/state")).json()
    assert state == {"accounts": [{"public_key": DEMO_PUBLIC_KEY, "profiles": 26, "metrics": 8, "events": 300}]}
