"""The migration dashboard in a real headless Chromium (.ci/run installs Debian's chromium)."""

import os

import aiohttp

import pytest
from cdp import chromium_page, find_chromium

from proxy.app import create_app
from proxy.config import Settings
from proxy.sandbox.seed import DEMO_PRIVATE_KEY


@pytest.fixture
def chromium():
    executable = find_chromium()
    if executable is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing: .ci/run must install Debian's chromium package")
        pytest.skip(
            "no Chromium on PATH (chromium, chromium-browser or google-chrome): install it with "
            "`apt-get install chromium` (Debian/Ubuntu) to run this test; .ci/run installs it and always runs it"
        )
    return executable


async def served_after(aiohttp_server, contract, spec, *paths: str) -> str:
    """A proxy's base URL once the legacy reads `paths` went through it (the usage to draw)."""
    server = await aiohttp_server(create_app(Settings(), transport=contract, spec=spec))
    base = f"http://{server.host}:{server.port}"
    async with aiohttp.ClientSession() as session:
        for path in paths:
            async with session.get(base + path, params={"api_key": DEMO_PRIVATE_KEY}) as response:
                assert response.status == 200
    return base


async def test_dashboard_renders_exercised_routes_without_console_errors(aiohttp_server, contract, spec, chromium):
    base = await served_after(aiohttp_server, contract, spec, "/api/v1/metrics", "/api/v1/metrics/timeline")

    async with chromium_page(chromium) as page:
        await page.load(base + "/__proxy/")
        routes = await page.evaluate("[...document.querySelectorAll('#usage tbody tr td:first-child')].map(td => td.textContent)")
        title = await page.evaluate("document.title")
        links = await page.evaluate("[...document.querySelectorAll('#usage a')].map(a => a.href)")
        assert page.errors == []
    assert title.startswith("Legacy API usage")
    assert sorted(routes) == ["GET /api/v1/metrics", "GET /api/v1/metrics/timeline"]
    assert "https://developers.klaviyo.com/en/reference/get_events" in links


async def test_migration_page_and_dashboard_links_render_in_chromium(aiohttp_server, contract, spec, chromium):
    base = await served_after(aiohttp_server, contract, spec, "/api/v1/metrics")

    async with chromium_page(chromium) as page:
        await page.load(base + "/__proxy/")
        plan_links = await page.evaluate("[...document.querySelectorAll('#usage a')].map(a => a.getAttribute('href')).filter(h => h.startsWith('/__proxy/migration'))")
        bars = await page.evaluate("document.querySelectorAll('#usage svg.mix rect').length")
        dashboard_text = await page.evaluate("document.body.innerText")
        await page.load(base + "/__proxy/migration?used=1")
        sections = await page.evaluate("[...document.querySelectorAll('section')].map(s => s.id)")
        code = await page.evaluate("[...document.querySelectorAll('pre code')].map(c => c.textContent)")
        plan_text = await page.evaluate("[...document.querySelectorAll('td, li, p')].map(e => e.innerText).join(' ')")
        await page.load(base + "/__proxy/migration")
        all_sections = await page.evaluate("document.querySelectorAll('section').length")
        assert page.errors == []
    assert plan_links == ["/__proxy/migration#route-get-api-v1-metrics"] and bars >= 1
    assert sections == ["route-get-api-v1-metrics"]
    assert len(code) == 2 and "klaviyo.Metrics.get_metrics(" in code[0] and "metricsApi.getMetrics(" in code[1]
    assert all_sections > 40
    for text in (dashboard_text, plan_text):  # prose shows code as code, never raw backticks
        assert DEMO_PRIVATE_KEY not in text and "`" not in text
