"""Bad input and upstream failures get legacy-shaped answers, never a 500 or a traceback."""

import json
from dataclasses import dataclass

import pytest

from proxy.app import create_app
from proxy.config import Settings
from proxy.logs import configure_logging
from proxy.newapi.errors import UpstreamTimeout, UpstreamUnreachable
from proxy.newapi.messages import UpstreamRequest, UpstreamResponse
from proxy.sandbox.seed import DEMO_PRIVATE_KEY as PRIVATE_KEY
from proxy.sandbox.seed import DEMO_PUBLIC_KEY as PUBLIC_KEY


@dataclass
class ScriptedTransport:
    """Answers every call with one canned response or failure."""

    outcome: UpstreamResponse | Exception

    async def send(self, request: UpstreamRequest) -> UpstreamResponse:
        if isinstance(self.outcome, Exception):
            raise self.outcome
        return self.outcome

    async def aclose(self) -> None:
        pass


def jsonapi_error(status: int, detail: str) -> bytes:
    return json.dumps({"errors": [{"id": "x", "status": status, "code": "c", "title": "t", "detail": detail}]}).encode()


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/nothing", {"status": 404, "message": "The requested resource does not exist."}),
        ("/api/v2/nothing", {"detail": "The requested resource does not exist."}),
        ("/totally/else", {"status": 404, "message": "The requested resource does not exist."}),
    ],
)
async def test_unknown_routes_get_the_familys_404(proxy, path, body):
    response = await proxy.get(path)
    assert response.status == 404
    assert await response.json() == body


async def test_wrong_method_is_a_legacy_405(proxy):
    response = await proxy.delete("/api/v1/metrics", params={"api_key": PRIVATE_KEY})
    assert response.status == 405
    assert response.headers["Allow"] == "GET"
    assert (await response.json())["status"] == 405


async def test_oversize_body_is_a_legacy_413(make_proxy, contract):
    proxy = await make_proxy(max_body_bytes=1024)
    response = await proxy.post("/api/v1/metrics", params={"api_key": PRIVATE_KEY}, data=b"x=" + b"a" * 4096)
    assert response.status in (405, 413)
    response = await proxy.get("/api/v1/metrics", params={"api_key": PRIVATE_KEY}, data=b"x=" + b"a" * 4096)
    assert response.status == 413
    assert await response.json() == {"status": 413, "message": "The request body is too large."}
    track = await proxy.post("/api/track", data=b"data=" + b"a" * 4096)
    assert (track.status, await track.text()) == (200, "0")
    assert contract.requests == []


async def test_malformed_json_body_on_a_v1_route(proxy):
    response = await proxy.get("/api/v1/metrics", params={"api_key": PRIVATE_KEY}, data=b'{"count": ')
    assert response.status == 400
    assert (await response.json())["message"] == "The request body is not valid JSON."


async def test_allow_list_refuses_other_keys_before_any_upstream_call(make_proxy, contract):
    proxy = await make_proxy(allowed_keys=frozenset({PRIVATE_KEY}))
    refused = await proxy.get("/api/v1/metrics", params={"api_key": "pk_" + "z" * 34})
    assert refused.status == 403
    assert contract.requests == []
    assert (await proxy.get("/api/v1/metrics", params={"api_key": PRIVATE_KEY})).status == 200


async def test_injected_key_serves_requests_without_one(make_proxy, contract):
    proxy = await make_proxy(private_key=PRIVATE_KEY)
    response = await proxy.get("/api/v1/metrics")
    assert response.status == 200
    assert contract.requests[0].header("Authorization") == f"Klaviyo-API-Key {PRIVATE_KEY}"


@pytest.mark.parametrize(
    ("outcome", "status", "message"),
    [
        (UpstreamTimeout("slow"), 504, "Klaviyo did not answer in time. Try again later."),
        (UpstreamUnreachable("down"), 503, "Klaviyo could not be reached. Try again later."),
        (UpstreamResponse(500, {}, b"<html>oops</html>"), 503, "Klaviyo is unavailable. Try again later."),
        (UpstreamResponse(400, {}, jsonapi_error(400, "Invalid filter")), 400, "Invalid filter"),
        (UpstreamResponse(404, {}, jsonapi_error(404, "gone")), 404, "The requested resource does not exist."),
        (UpstreamResponse(302, {"Location": "https://evil.example/"}, b""), 503, "Klaviyo is unavailable. Try again later."),
    ],
)
async def test_upstream_failures_map_to_v1_errors(aiohttp_client, outcome, status, message):
    proxy = await aiohttp_client(create_app(Settings(), transport=ScriptedTransport(outcome)))
    response = await proxy.get("/api/v1/metrics", params={"api_key": PRIVATE_KEY})
    assert response.status == status
    assert await response.json() == {"status": status, "message": message}


async def test_upstream_throttling_is_a_legacy_429_with_retry_after(aiohttp_client):
    throttled = UpstreamResponse(429, {"Retry-After": "7"}, jsonapi_error(429, "throttled"))
    proxy = await aiohttp_client(create_app(Settings(), transport=ScriptedTransport(throttled)))
    response = await proxy.get("/api/v1/metrics", params={"api_key": PRIVATE_KEY})
    assert response.status == 429
    assert response.headers["Retry-After"] == "7"
    assert await response.json() == {"status": 429, "message": "Request was throttled. Expected available in 7 seconds."}


async def test_track_answers_zero_when_klaviyo_does_not_take_the_event(aiohttp_client):
    proxy = await aiohttp_client(create_app(Settings(), transport=ScriptedTransport(UpstreamUnreachable("down"))))
    data = json.dumps({"token": PUBLIC_KEY, "event": "E", "customer_properties": {"$email": "a@b.c"}})
    assert await (await proxy.post("/api/track", data={"data": data})).text() == "0"


async def test_health_probes(proxy):
    assert (await proxy.get("/healthz")).status == 200
    ready = await proxy.get("/readyz")
    assert ready.status == 200 and (await ready.json())["routes"] > 0


async def test_log_line_per_request_without_keys_or_pii(make_proxy, capsys):
    configure_logging("info", "json", redact_pii=True)
    proxy = await make_proxy()
    await proxy.get("/api/v1/metrics", params={"api_key": PRIVATE_KEY})
    data = json.dumps({"token": PUBLIC_KEY, "event": "E", "customer_properties": {"$email": "secret.person@example.com", "$phone_number": "+15005550006"}})
    await proxy.post("/api/track", data={"data": data})
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    requests = [line for line in lines if line["event"] == "legacy_request"]
    assert [line["route"] for line in requests] == ["GET /api/v1/metrics", "GET|POST /api/track"]
    assert requests[0]["upstream"][0]["op"] == "GET /api/metrics"
    assert requests[0]["upstream"][0]["status"] == 200
    assert isinstance(requests[0]["total_ms"], float)
    text = json.dumps(lines)
    for secret in (PRIVATE_KEY, "secret.person@example.com", "+15005550006", "Klaviyo-API-Key"):
        assert secret not in text
