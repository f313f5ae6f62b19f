import json
import subprocess
import sys
from urllib.parse import urlencode

import pytest

from proxy.config import Settings
from proxy.mapping.table import load_table
from proxy.sandbox.seed import DEMO_PRIVATE_KEY
from proxy.staging.explain import RENDERERS, explain

ENTRIES = load_table(Settings().mappings_dir)


def sample_request(entry) -> tuple[str, str, bytes]:
    """One legacy request per entry: its example, else a generic one."""
    example = entry.example
    path = example.get("path") or entry.path.replace("{", "").replace("}", "")
    query = dict(example.get("query", {}))
    if entry.auth == "api_key":
        query["api_key"] = DEMO_PRIVATE_KEY
    target = path + ("?" + urlencode(query) if query else "")
    return entry.methods[0], target, example.get("body", "").encode()


@pytest.mark.parametrize("entry", ENTRIES, ids=[entry.legacy for entry in ENTRIES])
async def test_every_mapped_route_explains_without_leaking_the_key(entry, spec, beta_spec):
    method, target, body = sample_request(entry)
    settings = Settings(beta_template_send=True)  # explain the beta route too
    explanation = await explain(ENTRIES, settings, spec, method, target, body, beta=beta_spec)
    assert explanation.stopped is None, explanation.stopped
    assert explanation.calls, "a mapped route makes at least one new-API call"
    shown = set()
    for call in explanation.calls:
        path = call.url.split("a.klaviyo.com", 1)[1].split("?")[0]
        operation = spec.operation(call.method, path) or beta_spec.operation(call.method, path)
        shown.add(f"{call.method} {operation.path}")
    assert shown <= {str(call) for call in entry.calls}, "explain may only show calls the entry declares"
    for render in RENDERERS.values():
        text = render(explanation)
        assert DEMO_PRIVATE_KEY not in text and "DemoPk" not in text
        assert "$KLAVIYO_" in text


async def test_text_form_is_readable(spec):
    explanation = await explain(ENTRIES, Settings(), spec, "GET", f"/api/v1/metric/ABC/timeline?api_key={DEMO_PRIVATE_KEY}&count=10")
    text = RENDERERS["text"](explanation)
    assert 'GET https://a.klaviyo.com/api/events?include=metric,profile&filter=equals(metric_id,"ABC")&sort=-timestamp&page[size]=11' in text  # one more: the next event's time
    assert "revision: 2026-07-15" in text
    assert "Authorization: Klaviyo-API-Key $KLAVIYO_PRIVATE_KEY" in text


async def test_curl_form_runs_with_environment_keys(spec):
    explanation = await explain(
        ENTRIES, Settings(), spec, "POST", "/api/track",
        b'data={"token": "DemoPk", "event": "E", "customer_properties": {"$email": "a@b.c"}}',
    )
    curl = RENDERERS["curl"](explanation)
    assert curl.startswith("# 1. POST /client/events\ncurl -X POST \"https://a.klaviyo.com/client/events?company_id=$KLAVIYO_PUBLIC_KEY\"")
    assert "--data-raw '{\"data\":{\"type\":\"event\"" in curl


async def test_a_legacy_error_is_where_the_plan_stops(spec):
    explanation = await explain(ENTRIES, Settings(), spec, "GET", "/api/v1/metrics?count=lots&api_key=" + DEMO_PRIVATE_KEY)
    assert explanation.calls == ()
    assert explanation.stopped == "400 Invalid value for count: must be an integer."


def test_the_command_line(spec_path):
    result = subprocess.run(
        [sys.executable, "-m", "proxy.cli", "explain", f"GET /api/v1/metrics?api_key={DEMO_PRIVATE_KEY}", "--format", "json", "--spec", str(spec_path)],
        capture_output=True, text=True, check=True,
    )
    document = json.loads(result.stdout)
    assert [call["url"] for call in document["calls"]] == ["https://a.klaviyo.com/api/metrics"]
    assert DEMO_PRIVATE_KEY not in result.stdout


async def test_explain_endpoint(proxy, contract):
    response = await proxy.post("/__proxy/explain", json={"request": f"GET /api/v1/metrics?api_key={DEMO_PRIVATE_KEY}", "format": "curl"})
    assert response.status == 200
    text = await response.text()
    assert text.startswith("# 1. GET /api/metrics") and DEMO_PRIVATE_KEY not in text
    assert contract.requests == [], "explain sends nothing upstream"
    bad = await proxy.post("/__proxy/explain", data=b"nope")
    assert bad.status == 400


async def test_explain_states_what_an_answer_rests_on(proxy):
    """The entry's note: a v2 subscribe answer is a prediction; public identify cannot change identifiers."""
    subscribe = await proxy.post("/__proxy/explain", json={"request": "POST /api/v2/list/LstAbc/subscribe", "format": "text"})
    assert "prediction" in await subscribe.text()
    identify = await proxy.post("/__proxy/explain", json={"request": "GET /api/identify?data=e30=", "format": "text"})
    assert "cannot change" in await identify.text()


TRACK = 'data={"token": "DemoPk", "event": "Explained", "customer_properties": {"$email": "a@b.c"}}'
IDENTIFY = 'data={"token": "DemoPk", "properties": {"$email": "a@b.c", "plan": "gold"}}'


@pytest.mark.parametrize("delivery", ["sync", "spool"])
@pytest.mark.parametrize(("route", "data", "planned"), [
    ("/api/track", TRACK, "POST /client/events"),
    ("/api/identify", IDENTIFY, "POST /client/profiles"),
])  # fmt: skip
async def test_explaining_a_write_plans_it_and_writes_nothing_in_any_delivery(
    make_proxy, contract, tmp_path, delivery, route, data, planned
):
    import time

    from proxy.app import SPOOL

    proxy = await make_proxy(delivery=delivery, spool_path=tmp_path / "spool.sqlite3")
    response = await proxy.post("/__proxy/explain", json={"request": f"POST {route}", "data": data, "format": "json"})
    assert response.status == 200, await response.text()
    calls = (await response.json())["calls"]
    assert [f"{call['method']} {call['url'].split('a.klaviyo.com')[1].split('?')[0]}" for call in calls] == [planned]
    assert contract.requests == [], "explain sent nothing upstream"
    if delivery == "spool":
        spool = proxy.app[SPOOL].spool
        assert (await spool.status(time.time())).pending == 0, "explain stored nothing in the spool"
        # The same request served for real is spooled: the spool was there to be written.
        served = await proxy.post(route, data=data.encode(), headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert await served.text() == "1"
        assert (await spool.status(time.time())).pending == 1
