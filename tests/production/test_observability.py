"""`/metrics` (Prometheus) and `/readyz` (upstream reachability and spool health)."""

import asyncio
import json
from dataclasses import replace

from doubles import forgetful_state, Scripted, answers
from prometheus_client.parser import text_string_to_metric_families

from proxy.app import create_app
from proxy.config import Settings
from proxy.newapi.errors import UpstreamUnreachable
from proxy.newapi.messages import UpstreamResponse
from proxy.sandbox.seed import DEMO_PRIVATE_KEY, DEMO_PUBLIC_KEY
from proxy.upstream import observed


async def scrape(proxy) -> dict[tuple[str, tuple], float]:
    reply = await proxy.get("/metrics", headers={"Accept": "text/plain;version=0.0.4;q=0.9,*/*;q=0.1"})
    assert reply.status == 200 and reply.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    text = await reply.text()
    assert DEMO_PRIVATE_KEY not in text and DEMO_PUBLIC_KEY not in text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_legacy_requests_and_upstream_calls_are_counted_by_route_and_operation(make_proxy):
    proxy = await make_proxy(state=forgetful_state())
    before = await scrape(proxy)
    for _ in range(3):
        await proxy.get("/api/v1/metrics", params={"api_key": DEMO_PRIVATE_KEY})
    await proxy.get("/api/v1/nothing")
    after = await scrape(proxy)
    route, operation = "GET /api/v1/metrics", "GET /api/metrics"
    assert value(after, "klp_legacy_requests_total", route=route, status="200") - value(before, "klp_legacy_requests_total", route=route, status="200") == 3
    assert value(after, "klp_legacy_requests_total", route="(unmapped)", status="404") >= 1
    assert value(after, "klp_upstream_calls_total", operation=operation, status="200") - value(before, "klp_upstream_calls_total", operation=operation, status="200") == 3
    assert value(after, "klp_upstream_call_seconds_count", operation=operation) >= 3
    assert value(after, "klp_legacy_request_seconds_bucket", route=route, le="+Inf") >= 3
    assert value(after, "klp_governor_wait_seconds_count", operation=operation) >= 3


async def test_retries_are_counted_with_their_reason(aiohttp_client):
    upstream = Scripted([UpstreamResponse(503), UpstreamResponse(200, {}, b'{"data": [], "links": {}}')])
    proxy = await aiohttp_client(create_app(Settings(), transport=upstream))
    before = value(await scrape(proxy), "klp_upstream_retries_total", operation="GET /api/metrics", reason="503")
    assert (await proxy.get("/api/v1/metrics", params={"api_key": DEMO_PRIVATE_KEY})).status == 200
    after = value(await scrape(proxy), "klp_upstream_retries_total", operation="GET /api/metrics", reason="503")
    assert after - before == 1


async def test_spool_acceptance_delivery_and_depth(make_proxy, tmp_path, sandbox):
    proxy = await make_proxy(delivery="spool", spool_path=tmp_path / "spool.sqlite3", spool_linger=0.0)
    before = await scrape(proxy)
    data = json.dumps({"token": DEMO_PUBLIC_KEY, "event": "Seen", "customer_properties": {"$email": "m@example.com"}})
    assert await (await proxy.post("/api/track", data={"data": data})).text() == "1"
    await asyncio.sleep(1.2)  # delivered, and the depth reported after it
    after = await scrape(proxy)
    assert value(after, "klp_spool_accepted_total", kind="event") - value(before, "klp_spool_accepted_total", kind="event") == 1
    assert value(after, "klp_spool_delivered_total", kind="event", via="single") - value(before, "klp_spool_delivered_total", kind="event", via="single") == 1
    assert value(after, "klp_spool_depth") == 0
    assert value(after, "klp_spool_delivery_lag_seconds_count", kind="event") >= 1
    assert value(after, "klp_spool_commit_size_count") > value(before, "klp_spool_commit_size_count")


async def test_readiness_follows_upstream_when_writes_are_synchronous(aiohttp_client, monkeypatch):
    proxy = await aiohttp_client(create_app(replace(Settings(), retry_budget=0.0), transport=Scripted([UpstreamUnreachable("down")])))
    assert (await (await proxy.get("/readyz")).json())["upstream"] == "unknown"
    await proxy.get("/api/v1/metrics", params={"api_key": DEMO_PRIVATE_KEY})
    reply = await proxy.get("/readyz")
    assert reply.status == 503
    assert await reply.json() == {"status": "not ready", "upstream": "unreachable", "routes": (await reply.json())["routes"]}
    monkeypatch.setattr(observed, "UNREACHABLE_FOR", 0.0)  # old news: let traffic find out again
    assert (await proxy.get("/readyz")).status == 200


async def test_with_the_spool_an_upstream_outage_keeps_the_proxy_ready(aiohttp_client, tmp_path):
    settings = replace(Settings(), retry_budget=0.0, delivery="spool", spool_path=tmp_path / "spool.sqlite3", spool_linger=0.0)
    proxy = await aiohttp_client(create_app(settings, transport=Scripted([UpstreamUnreachable("down")])))
    data = json.dumps({"token": DEMO_PUBLIC_KEY, "event": "Seen", "customer_properties": {"$email": "m@example.com"}})
    assert await (await proxy.post("/api/track", data={"data": data})).text() == "1"
    await asyncio.sleep(0.3)
    reply = await proxy.get("/readyz")
    body = await reply.json()
    assert reply.status == 200 and body["upstream"] == "unreachable"
    assert body["spool"]["ok"] is True and body["spool"]["pending"] == 1 and body["spool"]["dead"] == 0


async def test_a_healthy_upstream_is_reported_reachable(aiohttp_client):
    proxy = await aiohttp_client(create_app(Settings(), transport=Scripted(list(answers(200)))))
    await proxy.get("/api/v1/metrics", params={"api_key": DEMO_PRIVATE_KEY})
    assert (await (await proxy.get("/readyz")).json())["upstream"] == "reachable"
