from proxy.sandbox.seed import DEMO_PRIVATE_KEY as PRIVATE_KEY

ENVELOPE_KEYS = ["end", "object", "page_size", "start", "total", "data", "page"]
METRIC_KEYS = {"object", "id", "name", "integration", "created", "updated"}


async def all_metric_ids(new_api) -> list[str]:
    document = await new_api("/api/metrics")
    return [metric["id"] for metric in document["data"]]


async def test_metrics_answer_the_legacy_list_envelope(proxy, new_api):
    response = await proxy.get("/api/v1/metrics", params={"api_key": PRIVATE_KEY})
    assert response.status == 200
    assert response.content_type == "application/json"
    body = await response.json()
    assert list(body) == ENVELOPE_KEYS
    expected = await all_metric_ids(new_api)
    assert body["object"] == "$list"
    assert body["total"] == len(expected) == body["page_size"] == len(body["data"])
    assert (body["start"], body["end"], body["page"]) == (0, len(expected) - 1, 0)
    for metric in body["data"]:
        assert set(metric) == METRIC_KEYS
        assert metric["object"] == "metric"
        assert set(metric["integration"]) == {"object", "id", "name", "category"}
        assert len(metric["created"]) == 19 and metric["created"][10] == " "
    assert [metric["id"] for metric in body["data"]] == expected


async def test_page_and_count_slice_the_whole_listing(proxy, new_api):
    expected = await all_metric_ids(new_api)
    response = await proxy.get("/api/v1/metrics", params={"api_key": PRIVATE_KEY, "page": "1", "count": "3"})
    body = await response.json()
    assert [m["id"] for m in body["data"]] == expected[3:6]
    assert (body["start"], body["end"], body["page_size"], body["page"]) == (3, 3 + len(body["data"]) - 1, len(body["data"]), 1)
    assert body["total"] == len(expected)


async def test_a_page_past_the_end_is_empty(proxy):
    body = await (await proxy.get("/api/v1/metrics", params={"api_key": PRIVATE_KEY, "page": "99"})).json()
    assert body["data"] == [] and body["page_size"] == 0 and body["page"] == 99


async def test_count_above_the_legacy_maximum_serves_the_maximum(proxy):
    body = await (await proxy.get("/api/v1/metrics", params={"api_key": PRIVATE_KEY, "count": "5000"})).json()
    assert body["page_size"] <= 100


async def test_bad_parameters_get_a_v1_error(proxy):
    response = await proxy.get("/api/v1/metrics", params={"api_key": PRIVATE_KEY, "count": "many"})
    assert response.status == 400
    assert await response.json() == {"status": 400, "message": "Invalid value for count: must be an integer."}


async def test_missing_and_wrong_keys_get_a_v1_403(proxy, contract):
    missing = await proxy.get("/api/v1/metrics")
    assert missing.status == 403
    assert (await missing.json())["status"] == 403
    assert contract.requests == []
    wrong = await proxy.get("/api/v1/metrics", params={"api_key": "pk_" + "x" * 34})
    assert wrong.status == 403
    assert (await wrong.json()) == {"status": 403, "message": "The API key specified is invalid."}
