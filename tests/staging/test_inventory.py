import base64

import json
from pathlib import Path

from openapi_spec_validator import validate

from proxy.app import create_app
from proxy.config import Settings
from proxy.sandbox.seed import demo_sandbox
from proxy.sandbox.transport import SandboxTransport
from proxy.coverage import coverage_markdown
from proxy.mapping.chart import load_chart
from proxy.mapping.table import load_table
from proxy.sandbox.seed import DEMO_PRIVATE_KEY, DEMO_PUBLIC_KEY
from proxy.staging.usage import fingerprint

README = Path(__file__).resolve().parents[2] / "README.md"


async def test_usage_counts_routes_per_key_fingerprint(proxy):
    for _ in range(3):
        await proxy.get("/api/v1/metrics", params={"api_key": DEMO_PRIVATE_KEY})
    await proxy.get("/api/v1/metrics", params={"api_key": DEMO_PRIVATE_KEY, "count": "bad"})
    data = base64.b64encode(json.dumps({"token": DEMO_PUBLIC_KEY, "event": "E", "customer_properties": {"$email": "a@b.c"}}).encode())
    await proxy.get("/api/track", params={"data": data.decode()})
    usage = await (await proxy.get("/__proxy/usage")).json()
    metrics, track = usage["routes"]
    assert metrics["route"] == "GET /api/v1/metrics" and metrics["calls"] == 4
    assert metrics["key"] == fingerprint(DEMO_PRIVATE_KEY) and DEMO_PRIVATE_KEY not in json.dumps(usage)
    assert metrics["statuses"] == {"2xx": 3, "4xx": 1}
    assert metrics["operations"] == ["GET /api/metrics"]
    assert metrics["p50_ms"] <= metrics["p95_ms"]
    assert track["route"] == "GET|POST /api/track" and track["operations"] == ["POST /client/events"]


async def test_dashboard_lists_routes_with_their_replacements(proxy):
    await proxy.get("/api/v1/metrics", params={"api_key": DEMO_PRIVATE_KEY})
    response = await proxy.get("/__proxy/")
    assert response.content_type == "text/html"
    html = await response.text()
    assert "<code>GET /api/v1/metrics</code>" in html
    assert 'href="https://developers.klaviyo.com/en/reference/get_metrics"' in html
    assert "Call <code>GET /api/metrics</code> instead" in html and "`" not in html  # code rendered as code
    assert 'href="/__proxy/migration#route-get-api-v1-metrics"' in html
    assert f'<option value="{fingerprint(DEMO_PRIVATE_KEY)}"' in html and "<svg class=\"mix\"" in html
    assert DEMO_PRIVATE_KEY not in html
    other = await (await proxy.get("/__proxy/", params={"key": "key:0000000000"})).text()
    assert "<code>GET /api/v1/metrics</code>" not in other.split("Mapped but not used")[0]


async def test_dashboard_stays_small_and_fast_under_20000_keys(proxy):
    """A key flood must not make the dashboard render per key (hardening issue, item 4)."""
    import gc
    import time

    from proxy.staging.admin import STAGING

    inventory = proxy.server.app[STAGING].inventory
    for number in range(20_000):
        inventory.record("GET /api/v1/metrics", f"pk_flood{number:06d}", 200, ["GET /api/metrics"], 1.0)
    # Counted in CPU seconds (this process's, drawing thread included): on a busy test
    # machine the wall clock measures the scheduler; the work a page costs does not change.
    # The test process's own garbage (every earlier test's) is collected first, not on the
    # page's account.
    gc.collect()
    started = time.process_time()
    response = await proxy.get("/__proxy/")
    html = await response.text()
    cost = time.process_time() - started
    assert response.status == 200 and cost < 0.3, cost
    assert len(html) < 200_000 and html.count("<option value=") <= 21  # "all keys" and the 20 busiest


async def test_deprecation_headers_on_translated_responses(make_proxy):
    proxy = await make_proxy()
    response = await proxy.get("/api/v1/metrics", params={"api_key": DEMO_PRIVATE_KEY})
    assert response.headers["Deprecation"] == "@1665964800"
    assert response.headers["Sunset"] == "Sun, 30 Jun 2024 00:00:00 GMT"
    assert '<https://developers.klaviyo.com/en/reference/get_metrics>; rel="successor-version"' in response.headers["Link"]
    quiet = await make_proxy(deprecation_headers=False)
    assert "Deprecation" not in (await quiet.get("/api/v1/metrics", params={"api_key": DEMO_PRIVATE_KEY})).headers


async def test_admin_routes_can_be_switched_off(make_proxy):
    proxy = await make_proxy(admin=False)
    response = await proxy.get("/__proxy/usage")
    assert response.status == 404
    assert (await response.json())["status"] == 404


async def test_passthrough_forwards_new_api_calls_unchanged(proxy, contract):
    response = await proxy.get(
        "/api/metrics",
        headers={"revision": "2026-07-15", "Authorization": f"Klaviyo-API-Key {DEMO_PRIVATE_KEY}", "Cookie": "session=1", "Connection": "close"},
    )
    assert response.status == 200
    assert response.content_type == "application/vnd.api+json"
    assert (await response.json())["data"][0]["type"] == "metric"
    (sent,) = contract.requests
    assert sent.path == "/api/metrics"
    assert {name.lower() for name in sent.headers} >= {"revision", "authorization"}
    assert not {"cookie", "host", "connection"} & {name.lower() for name in sent.headers}
    usage = await (await proxy.get("/__proxy/usage")).json()
    assert usage["routes"][0]["route"] == "passthrough GET /api/metrics"


async def test_passthrough_keeps_new_api_errors(aiohttp_client):
    # The call is deliberately invalid, so it bypasses the contract check.
    proxy = await aiohttp_client(create_app(Settings(), transport=SandboxTransport(demo_sandbox())))
    response = await proxy.get("/api/metrics", headers={"revision": "2026-07-15"})
    assert response.status == 401
    assert "errors" in await response.json()


async def test_api_path_without_revision_is_not_passed_through(proxy, contract):
    response = await proxy.get("/api/metrics")
    assert response.status == 404
    assert contract.requests == []


async def test_generated_legacy_openapi_is_valid(proxy):
    document = await (await proxy.get("/__proxy/openapi.json")).json()
    validate(document)
    assert document["openapi"] == "3.1.0"
    assert {"/api/v1/metrics", "/api/track"} <= set(document["paths"])
    assert document["paths"]["/api/v1/metrics"]["get"]["x-new-api-calls"] == ["GET /api/metrics"]


def test_readme_coverage_table_is_current():
    text = README.read_text()
    current = text.split("<!-- coverage:start -->\n", 1)[1].split("\n<!-- coverage:end -->", 1)[0]
    expected = coverage_markdown(load_table(Settings().mappings_dir), load_chart())
    assert current == expected, "README coverage table is stale: run `klaviyo-legacy-proxy check --format markdown`"


def test_route_activity_keeps_a_bounded_day_of_half_hours():
    from proxy.staging.activity import BUCKET_SECONDS, BUCKETS, RouteActivity

    now = [1_000_000 * BUCKET_SECONDS]
    activity = RouteActivity(clock=lambda: now[0])
    activity.record("GET /api/v1/metrics")
    activity.record("GET /api/v1/metrics")
    now[0] += 3 * BUCKET_SECONDS
    activity.record("GET /api/v1/metrics")
    series = activity.series("GET /api/v1/metrics")
    assert len(series) == BUCKETS and series[-4:] == [2, 0, 0, 1]
    now[0] += BUCKETS * BUCKET_SECONDS
    assert activity.series("GET /api/v1/metrics") == [0] * BUCKETS
    assert activity.series("never called") == [0] * BUCKETS
    activity.record("GET /api/v1/metrics")  # a day later: the whole ring moved on
    assert activity.series("GET /api/v1/metrics") == [0] * (BUCKETS - 1) + [1]


async def test_each_operation_a_call_became_is_counted():
    from proxy.staging.usage import UsageInventory

    inventory = UsageInventory(clock=lambda: 1_000_000.0)
    inventory.record("GET /api/v1/campaign/{campaign_id}", None, 200, ["GET /api/campaigns/{id}", "GET /api/lists/{id}", "GET /api/campaigns/{id}"], 0.5)
    inventory.record("GET /api/v1/campaign/{campaign_id}", None, 503, [], 2.5)
    (row,) = await inventory.rows()
    counts = row.counts()
    assert counts["calls"] == 2 and counts["statuses"] == {"2xx": 1, "5xx": 1}
    assert counts["operations"] == {"GET /api/campaigns/{id}": 2, "GET /api/lists/{id}": 1}
    assert counts["latencies"] == {"0": 1, "10": 1}  # 2.5 ms: 1.1**9 < 2.5 <= 1.1**10


async def test_dashboard_draws_calls_over_time(proxy):
    for _ in range(2):
        await proxy.get("/api/v1/metrics", params={"api_key": DEMO_PRIVATE_KEY})
    html = await (await proxy.get("/__proxy/")).text()
    assert html.count('<svg class="spark"') == 1 and "peak 2" in html


async def test_a_dashboard_over_20000_keys_does_not_stall_other_requests(proxy, monkeypatch):
    """The dashboard's O(keys) work runs off the event loop (hardening issue, item 4): a
    drawing made deliberately slow must not hold /healthz back."""
    import asyncio
    import time

    from proxy.staging import admin
    from proxy.staging.admin import STAGING

    inventory = proxy.server.app[STAGING].inventory
    for number in range(20_000):
        inventory.record("GET /api/v1/metrics", f"pk_flood{number:06d}", 200, ["GET /api/metrics"], 1.0)
    real_render = admin.render_dashboard

    def slow_render(*args, **kwargs):
        time.sleep(0.5)  # blocks whatever runs it: the loop, if the drawing were put back on it
        return real_render(*args, **kwargs)

    monkeypatch.setattr(admin, "render_dashboard", slow_render)
    dashboard = asyncio.ensure_future(proxy.get("/__proxy/"))
    await asyncio.sleep(0.1)  # the dashboard is being drawn
    started = time.perf_counter()
    health = await proxy.get("/healthz")
    waited = time.perf_counter() - started
    assert health.status == 200
    assert not dashboard.done(), "the drawing finished before /healthz was asked"
    assert waited < 0.15, f"/healthz waited {waited:.3f} s behind the dashboard"
    assert (await dashboard).status == 200

