"""Legacy page-numbered listings in linear time, and the lookups cache behind campaign
reads (issue 12): what the proxy learns walking a collection is kept in the state store
and reused, and the proxy's own writes start afresh."""

from __future__ import annotations

from proxy.sandbox.seed import DEMO_PRIVATE_KEY
from proxy.sandbox.template_store import Template

KEY = {"api_key": DEMO_PRIVATE_KEY}
TEMPLATES = 1_000
PAGE_SIZE = 10  # GET /api/templates serves ten a page


def add_templates(sandbox, count: int) -> None:
    (account,) = sandbox.accounts
    for index in range(count):
        # Added as if made in Klaviyo's editor: the API's cap on created templates does not apply.
        account.templates.add(Template(f"Tw{index:04}", f"Walk {index:04}", "CODE", "<p>hi</p>", None, None, 0.0, 0.0, api_created=False))


def template_pages(contract) -> int:
    return sum(1 for request in contract.requests if request.method == "GET" and request.path == "/api/templates")


async def test_reading_every_page_of_a_long_listing_costs_about_one_walk(proxy, sandbox, contract):
    add_templates(sandbox, TEMPLATES)
    total = len(sandbox.accounts[0].templates.library())
    upstream_pages = -(-total // PAGE_SIZE)
    seen = []
    for page in range(-(-total // 100)):
        body = await (await proxy.get("/api/v1/email-templates", params={**KEY, "page": str(page), "count": "100"})).json()
        assert body["total"] == total and body["page"] == page
        seen += [template["id"] for template in body["data"]]
    assert len(seen) == len(set(seen)) == total
    # Before: each legacy page walked the whole collection again (10 pages × 100 calls).
    assert template_pages(contract) <= 1.5 * upstream_pages


async def test_a_cold_middle_page_is_served_and_its_walk_serves_the_pages_around_it(proxy, sandbox, contract):
    add_templates(sandbox, 95)
    everything = sorted(t.name for t in sandbox.accounts[0].templates.library())
    body = await (await proxy.get("/api/v1/email-templates", params={**KEY, "page": "3", "count": "7"})).json()
    assert [t["name"] for t in body["data"]] == everything[21:28] and body["total"] == len(everything)
    walked = template_pages(contract)
    body = await (await proxy.get("/api/v1/email-templates", params={**KEY, "page": "4", "count": "7"})).json()
    assert [t["name"] for t in body["data"]] == everything[28:35]
    assert template_pages(contract) == walked


async def test_the_proxys_own_write_starts_a_new_snapshot(proxy, contract):
    before = await (await proxy.get("/api/v1/email-templates", params=KEY)).json()
    created = await proxy.post("/api/v1/email-templates", params=KEY, data={"name": "AAA first", "html": "<p/>"})
    assert created.status == 200
    after = await (await proxy.get("/api/v1/email-templates", params=KEY)).json()
    assert after["total"] == before["total"] + 1
    assert after["data"][0]["name"] == "AAA first"


async def test_a_warm_campaign_read_makes_one_round_of_upstream_calls(proxy, sandbox, contract):
    (account,) = sandbox.accounts
    campaign = next(c for c in account.campaigns if c.included)
    path = f"/api/v1/campaign/{campaign.id}"
    cold = await proxy.get(path, params=KEY)
    assert cold.status == 200
    first = [request.path for request in contract.requests]
    assert any(p in ("/api/lists", "/api/segments") for p in first), "the cold read looks its lists up"
    contract.requests.clear()
    warm = await proxy.get(path, params=KEY)
    assert await warm.json() == await cold.json()
    assert sorted(request.path for request in contract.requests) == sorted(
        [f"/api/campaigns/{campaign.id}", f"/api/campaigns/{campaign.id}/campaign-messages"]
    )
