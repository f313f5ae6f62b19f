"""Retries where safe: reads, idempotent writes and keyed event creation come back after
429/5xx/timeouts/resets within a time budget; other writes get one attempt."""

import orjson
import pytest
from doubles import FakeTime, Scripted, answers

from proxy.newapi.errors import UpstreamTimeout, UpstreamUnreachable
from proxy.newapi.messages import UpstreamRequest, UpstreamResponse
from proxy.upstream.retry import RetryingTransport, replayable


def post(path: str, body) -> UpstreamRequest:
    return UpstreamRequest("POST", path, (), {}, orjson.dumps(body))


def event(unique_id=None) -> dict:
    attributes = {"properties": {}, "metric": {"data": {"type": "metric", "attributes": {"name": "M"}}}}
    if unique_id is not None:
        attributes["unique_id"] = unique_id
    return {"type": "event", "attributes": attributes}


def bulk(*events) -> dict:
    profile = {"data": {"type": "profile", "attributes": {"email": "a@example.com"}}}
    entry = {"type": "event-bulk-create", "attributes": {"profile": profile, "events": {"data": list(events)}}}
    return {"data": {"type": "event-bulk-create-job", "attributes": {"events-bulk-create": {"data": [entry]}}}}


APPEND = {"data": {"type": "profile", "attributes": {"email": "a@example.com"}, "meta": {"patch_properties": {"append": {"tags": "x"}}}}}
UPSERT = {"data": {"type": "profile", "attributes": {"email": "a@example.com"}}}


@pytest.mark.parametrize(
    ("request_", "safe"),
    [
        (UpstreamRequest("GET", "/api/profiles"), True),
        (UpstreamRequest("DELETE", "/api/lists/X/relationships/profiles"), True),
        (UpstreamRequest("PATCH", "/api/profiles/X", (), {}, orjson.dumps(UPSERT)), True),
        (UpstreamRequest("PATCH", "/api/profiles/X", (), {}, orjson.dumps(APPEND)), False),
        (post("/api/events", {"data": event("u-1")}), True),
        (post("/client/events", {"data": event("u-1")}), True),
        (post("/api/events", {"data": event()}), False),
        (post("/api/event-bulk-create-jobs", bulk(event("a"), event("b"))), True),
        (post("/api/event-bulk-create-jobs", bulk(event("a"), event())), False),
        (post("/api/profile-import", UPSERT), True),
        (post("/api/profile-import", APPEND), False),
        (post("/api/metric-aggregates", {"data": {}}), True),
        (post("/api/lists", {"data": {"type": "list", "attributes": {"name": "L"}}}), False),
        (post("/api/campaign-send-jobs", {"data": {}}), False),
    ],
)
def test_which_requests_may_be_replayed(request_, safe):
    assert replayable(request_) is safe


def retrying(fake_time: FakeTime, outcomes, budget: float = 10.0) -> tuple[RetryingTransport, Scripted]:
    inner = Scripted(list(outcomes))
    transport = RetryingTransport(
        inner, budget=budget, operation_of=lambda r: r.method, jitter=lambda: 0.5, clock=fake_time.clock, sleep=fake_time.sleep
    )
    return transport, inner


GET = UpstreamRequest("GET", "/api/metrics")


@pytest.mark.parametrize(
    "failure",
    [UpstreamResponse(503), UpstreamResponse(500), UpstreamResponse(429), UpstreamTimeout("slow"), UpstreamUnreachable("reset")],
)
async def test_a_read_comes_back_after_a_passing_failure(fake_time, failure):
    transport, inner = retrying(fake_time, [failure, failure, *answers(200)])
    assert (await transport.send(GET)).status == 200
    assert len(inner.requests) == 3
    assert fake_time.slept == pytest.approx([0.075, 0.15])  # 0.1 then 0.2, three quarters each with this jitter


async def test_retry_after_is_honoured(fake_time):
    transport, _ = retrying(fake_time, [UpstreamResponse(429, {"Retry-After": "4"}), *answers(200)])
    assert (await transport.send(GET)).status == 200
    assert fake_time.slept == [4.0]


async def test_the_budget_bounds_the_retries(fake_time):
    transport, inner = retrying(fake_time, answers(503), budget=1.0)
    assert (await transport.send(GET)).status == 503
    assert sum(fake_time.slept) <= 1.0 and len(inner.requests) == len(fake_time.slept) + 1 >= 3


async def test_the_last_transport_failure_is_raised_when_the_budget_is_spent(fake_time):
    transport, _ = retrying(fake_time, [UpstreamTimeout("slow")], budget=0.5)
    with pytest.raises(UpstreamTimeout):
        await transport.send(GET)


async def test_a_retry_after_beyond_the_budget_returns_the_429_at_once(fake_time):
    transport, inner = retrying(fake_time, [UpstreamResponse(429, {"Retry-After": "30"})], budget=10)
    assert (await transport.send(GET)).status == 429
    assert len(inner.requests) == 1 and fake_time.slept == []


async def test_a_non_idempotent_write_gets_one_attempt_after_an_ambiguous_failure(fake_time):
    create_list = post("/api/lists", {"data": {"type": "list", "attributes": {"name": "L"}}})
    transport, inner = retrying(fake_time, [UpstreamResponse(503), *answers(201)])
    assert (await transport.send(create_list)).status == 503
    transport, inner = retrying(fake_time, [UpstreamTimeout("slow"), *answers(201)])
    with pytest.raises(UpstreamTimeout):
        await transport.send(create_list)
    assert len(inner.requests) == 1


async def test_but_a_429_means_it_never_ran_so_it_is_sent_again(fake_time):
    create_list = post("/api/lists", {"data": {"type": "list", "attributes": {"name": "L"}}})
    transport, inner = retrying(fake_time, [UpstreamResponse(429, {"Retry-After": "1"}), *answers(201)])
    assert (await transport.send(create_list)).status == 201
    assert len(inner.requests) == 2


async def test_client_errors_are_not_retried(fake_time):
    transport, inner = retrying(fake_time, answers(400))
    assert (await transport.send(GET)).status == 400
    assert len(inner.requests) == 1


async def test_a_request_that_may_not_wait_is_sent_once(fake_time):
    """A read the legacy answer can do without (a member count) is never retried."""
    impatient = UpstreamRequest("GET", "/api/lists/L1", (("additional-fields[list]", "profile_count"),), may_wait=False)
    transport, inner = retrying(fake_time, [UpstreamResponse(429, {"Retry-After": "1"}), *answers(200)])
    assert (await transport.send(impatient)).status == 429
    assert len(inner.requests) == 1 and fake_time.slept == []
