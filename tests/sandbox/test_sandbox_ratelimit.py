"""Per-account, per-operation fixed windows, stepped with the test clock."""

from __future__ import annotations

import pytest

from proxy.openapi.spec import PageSize, RateLimit, pinned_spec
from proxy.sandbox import Sandbox
from proxy.sandbox.operations import OperationLimits, limits_for
from proxy.sandbox.ratelimit import Admitted, FixedWindowLimiter, Throttled
from proxy.sandbox.resources import ROUTES

# get_metrics is M tier: 10 per second, 150 per minute.
BURST, STEADY = 10, 150


async def spend(client, count: int) -> list:
    return [await client.get("/api/metrics") for _ in range(count)]


async def test_the_burst_window_throttles_within_a_second(api, clock):
    clock.advance(0.25)
    answers = await spend(api, BURST + 1)
    assert [a.status for a in answers] == [200] * BURST + [429]
    throttled = answers[-1]
    assert throttled.headers["Retry-After"] == "1"
    assert throttled.error["code"] == "throttled"
    assert throttled.error["detail"] == "Request was throttled. Expected available in 1 seconds."
    assert "RateLimit-Remaining" not in throttled.headers
    clock.advance(1)
    assert (await api.get("/api/metrics")).status == 200


async def test_the_steady_window_throttles_until_the_minute_ends(api, clock):
    for _ in range(STEADY // BURST):
        assert {a.status for a in await spend(api, BURST)} == {200}
        clock.advance(1)
    throttled = await api.get("/api/metrics")
    assert throttled.status == 429
    assert throttled.headers["Retry-After"] == str(60 - STEADY // BURST)
    clock.advance(60 - STEADY // BURST)
    assert (await api.get("/api/metrics")).status == 200


async def test_answers_report_the_steady_window(api, clock):
    clock.advance(20.5)
    first, second = await spend(api, 2)
    assert first.headers["RateLimit-Limit"] == str(STEADY)
    assert (first.headers["RateLimit-Remaining"], second.headers["RateLimit-Remaining"]) == ("149", "148")
    assert first.headers["RateLimit-Reset"] == "40"


async def test_quotas_are_per_account_and_per_operation(api, other_api):
    await spend(api, BURST)
    assert (await api.get("/api/metrics")).status == 429
    assert (await other_api.get("/api/metrics")).status == 200
    assert (await api.get("/api/profiles")).status == 200


async def test_errors_after_admission_still_count_and_carry_headers(api):
    answer = await api.get("/api/metrics/nope00")
    assert answer.status == 404
    assert answer.headers["RateLimit-Remaining"] == str(STEADY - 1)


async def test_rate_limits_can_be_switched_off(acme, clock, loaded_spec, client_for):
    unlimited = client_for(Sandbox([acme], spec=loaded_spec, clock=clock, rate_limits=False))
    answers = await spend(unlimited, BURST * 3)
    assert {a.status for a in answers} == {200}
    assert "RateLimit-Limit" not in answers[0].headers


def test_a_daily_cap_holds_until_the_next_day():
    limiter = FixedWindowLimiter()
    daily = RateLimit(burst=5, steady=50, daily=2)
    now = 86_400 * 100 + 10
    assert isinstance(limiter.take("k", daily, now), Admitted)
    assert isinstance(limiter.take("k", daily, now + 1), Admitted)
    assert limiter.take("k", daily, now + 120) == Throttled(retry_after=86_400 - 130)
    assert isinstance(limiter.take("k", daily, now + 86_400), Admitted)


def test_limits_are_read_from_the_spec(loaded_spec):
    beta_spec = pinned_spec(beta=True)
    assert limits_for("get_events", loaded_spec, beta_spec) == OperationLimits(
        RateLimit(burst=350, steady=3500, daily=None), PageSize(minimum=1, maximum=1000, default=200)
    )
    assert limits_for("create_list", loaded_spec, beta_spec).ratelimit.daily == 150
    for route in ROUTES:  # every served operation states its tier
        assert limits_for(route.operation_id, loaded_spec, beta_spec).ratelimit.burst > 0


async def test_profile_count_reads_have_their_own_lower_tier(api, clock):
    """The spec's description puts `additional-fields[list]=profile_count` at 1/s and 15/m:
    a second counted read in the same second is throttled, plain reads are not."""
    created = await api.post("/api/lists", {"data": {"type": "list", "attributes": {"name": "Counted"}}})
    list_id = created.data["id"]
    counted = {"additional-fields[list]": "profile_count"}
    clock.advance(1)
    first, second = await api.get(f"/api/lists/{list_id}", counted), await api.get(f"/api/lists/{list_id}", counted)
    assert (first.status, second.status) == (200, 429)
    assert first.headers["RateLimit-Limit"] == "15", "the headers report the tier the read used"
    assert second.headers["Retry-After"] == "1"
    assert (await api.get(f"/api/lists/{list_id}")).status == 200
    for _ in range(14):
        clock.advance(1)
        assert (await api.get(f"/api/lists/{list_id}", counted)).status == 200
    clock.advance(1)
    assert (await api.get(f"/api/lists/{list_id}", counted)).status == 429, "15 a minute"


def test_conditional_tiers_are_read_from_the_spec_descriptions(loaded_spec):
    (tier,) = loaded_spec.by_id("get_segment").conditional_ratelimits
    assert (tier.parameter, tier.value, tier.ratelimit) == ("additional-fields[segment]", "profile_count", RateLimit(1, 15, None))
    assert tier.applies([("additional-fields[segment]", "profile_count")])
    assert not tier.applies([("fields[segment]", "profile_count")])
    # The description says `include=list`; the parameter only takes `lists`.
    assert {t.value for t in loaded_spec.by_id("get_profile").conditional_ratelimits} == {"lists", "segments"}
