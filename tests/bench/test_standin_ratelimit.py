"""The bench's stand-in upstream answers Klaviyo's RateLimit-* headers, so the proxy's
governor does in the bench the feedback work it does in production."""

from bench.harness import UNLIMITED
from bench.upstream import build_app


async def test_every_answer_reports_the_raised_steady_window_of_its_operation(aiohttp_client):
    client = await aiohttp_client(build_app(0))
    first = await client.post("/api/events", data=b"{}")
    second = await client.post("/api/events", data=b"{}")
    metrics = await client.get("/api/metrics")
    assert first.status == second.status == 202
    assert first.headers["RateLimit-Limit"] == str(3500 * UNLIMITED)  # POST /api/events: 3500/m
    remaining = int(first.headers["RateLimit-Remaining"])
    assert int(second.headers["RateLimit-Remaining"]) in (remaining - 1, 3500 * UNLIMITED - 1)  # or a new minute
    assert 1 <= int(first.headers["RateLimit-Reset"]) <= 60
    assert metrics.headers["RateLimit-Limit"] == str(150 * UNLIMITED)  # counted per operation
    assert int(metrics.headers["RateLimit-Remaining"]) == 150 * UNLIMITED - 1


async def test_an_error_answer_reports_them_too(aiohttp_client):
    client = await aiohttp_client(build_app(0, members=10))
    refused = await client.get("/api/lists/L1/profiles", params={"page[size]": "1000"})
    assert refused.status == 400 and refused.content_type == "application/vnd.api+json"
    assert (await refused.json(content_type=None))["errors"][0]["source"] == {"parameter": "page[size]"}
    assert refused.headers["RateLimit-Limit"] == str(750 * UNLIMITED)
