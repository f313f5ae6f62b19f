"""Metrics: the listing with its integration filters, and one metric."""

from __future__ import annotations

import pytest

from proxy.sandbox import DEMO_PRIVATE_KEY, DEMO_PUBLIC_KEY, demo_sandbox


async def test_all_metrics_in_creation_order(demo):
    answer = await demo.get("/api/metrics")
    assert answer.status == 200
    names = [item["attributes"]["name"] for item in answer.data]
    assert names[:3] == ["Placed Order", "Ordered Product", "Viewed Product"] and len(names) == 8
    assert answer.json["links"] == {"self": "https://a.klaviyo.com/api/metrics"}
    assert set(answer.data[0]["attributes"]["integration"]) == {"id", "name", "category"}


@pytest.mark.parametrize(
    ("expression", "count"),
    [
        ("equals(integration.name,'Shopify')", 2),
        ('equals(integration.category,"Internal")', 4),
        ("equals(integration.name,'shopify')", 0),
    ],
)
async def test_integration_filters(demo, expression, count):
    answer = await demo.get("/api/metrics", {"filter": expression})
    assert len(answer.data) == count


async def test_a_filter_the_operation_does_not_offer_is_rejected(demo):
    answer = await demo.get("/api/metrics", {"filter": "equals(name,'Placed Order')"})
    assert answer.status == 400
    assert answer.error["source"] == {"parameter": "filter"}


async def test_one_metric_with_sparse_fields(demo):
    listed = (await demo.get("/api/metrics")).data[0]
    answer = await demo.get(f"/api/metrics/{listed['id']}", {"fields[metric]": "name"})
    assert answer.data["attributes"] == {"name": "Placed Order"}
    assert answer.data["relationships"]["flow-triggers"]["links"]["related"].endswith("/flow-triggers")


async def test_an_unknown_metric_is_404(demo):
    assert (await demo.get("/api/metrics/AAAAAA")).error["code"] == "not_found"


async def test_links_use_the_configured_base_url(loaded_spec, client_for):
    sandbox = demo_sandbox(spec=loaded_spec, base_url="http://sandbox.test:8081")
    answer = await client_for(sandbox, DEMO_PRIVATE_KEY, DEMO_PUBLIC_KEY).get("/api/metrics")
    assert answer.json["links"]["self"] == "http://sandbox.test:8081/api/metrics"
    assert answer.data[0]["links"]["self"].startswith("http://sandbox.test:8081/api/metrics/")
