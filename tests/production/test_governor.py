"""The rate governor: fixed windows per account and operation, corrected by upstream's
headers, bounded waits that end in a legacy 429."""

import asyncio

import pytest
from doubles import forgetful_state, MIDNIGHT, FakeTime, Scripted, answers

from proxy.config import Settings
from proxy.openapi.spec import RateLimit
from proxy.sandbox.seed import DEMO_PRIVATE_KEY
from proxy.upstream.budget import Feedback, LocalBudget
from proxy.newapi.errors import UpstreamThrottled
from proxy.upstream.accounts import Accounts
from proxy.upstream.client import Credentials
from proxy.upstream.governor import GovernedTransport
from proxy.newapi.messages import UpstreamRequest, UpstreamResponse
from proxy.upstream.tiers import load_tiers, tiers_path

TIERS = load_tiers(tiers_path(Settings().mappings_dir))
M = RateLimit(burst=10, steady=150, daily=None)
DAILY = RateLimit(burst=10, steady=150, daily=150)
KEY = "pk:abc|GET /api/metrics"


def metrics_request(key: str = DEMO_PRIVATE_KEY) -> UpstreamRequest:
    return UpstreamRequest("GET", "/api/metrics", (), {"Authorization": f"Klaviyo-API-Key {key}", "revision": "2026-07-15"})


async def take(budget: LocalBudget, limit: RateLimit, now: float, times: int) -> list[float]:
    return [await budget.reserve(KEY, limit, now) for _ in range(times)]


async def test_burst_window_then_the_next_second():
    budget = LocalBudget()
    assert await take(budget, M, MIDNIGHT + 0.25, 10) == [0.0] * 10
    assert await budget.reserve(KEY, M, MIDNIGHT + 0.25) == pytest.approx(0.75)
    assert await budget.reserve(KEY, M, MIDNIGHT + 1.0) == 0.0


async def test_steady_window_holds_until_the_minute_turns():
    budget = LocalBudget()
    for second in range(15):
        assert await take(budget, M, MIDNIGHT + second, 10) == [0.0] * 10
    assert await budget.reserve(KEY, M, MIDNIGHT + 15) == pytest.approx(45)
    assert await budget.reserve(KEY, M, MIDNIGHT + 60) == 0.0


async def test_daily_cap():
    budget = LocalBudget()
    for minute in range(15):
        for second in range(10):
            await budget.reserve(KEY, DAILY, MIDNIGHT + minute * 60 + second)
    assert await budget.reserve(KEY, DAILY, MIDNIGHT + 3600) == pytest.approx(86_400 - 3600)


async def test_a_refused_reservation_takes_nothing():
    budget = LocalBudget()
    await take(budget, M, MIDNIGHT, 10)
    await take(budget, M, MIDNIGHT, 5)  # refused: burst exhausted
    for second in range(1, 15):
        assert await take(budget, M, MIDNIGHT + second, 10) == [0.0] * 10


async def test_upstream_headers_correct_the_count_and_the_cap():
    budget = LocalBudget()
    # Another client of the account has spent 140 of the minute already.
    await budget.observe(KEY, M, Feedback(limit=150, remaining=10, reset=30), MIDNIGHT)
    for second in range(1, 3):
        await take(budget, M, MIDNIGHT + second, 5)
    assert await budget.reserve(KEY, M, MIDNIGHT + 3) == pytest.approx(57)
    # A smaller real cap than the spec's (the L tier was 700/m before 2026-01-15).
    other = "pk:other|GET /api/profiles"
    await budget.observe(other, M, Feedback(limit=20, remaining=19, reset=59), MIDNIGHT)
    assert [await budget.reserve(other, M, MIDNIGHT + 1) for _ in range(10)] == [0.0] * 10
    assert [await budget.reserve(other, M, MIDNIGHT + 2) for _ in range(9)] == [0.0] * 9
    assert await budget.reserve(other, M, MIDNIGHT + 2) == pytest.approx(58)


async def test_remaining_zero_blocks_until_upstreams_reset():
    budget = LocalBudget()
    await budget.observe(KEY, M, Feedback(limit=150, remaining=0, reset=12), MIDNIGHT + 1)
    assert await budget.reserve(KEY, M, MIDNIGHT + 2) == pytest.approx(11)


async def test_retry_after_blocks_the_key():
    budget = LocalBudget()
    await budget.observe(KEY, M, Feedback(retry_after=7), MIDNIGHT)
    assert await budget.reserve(KEY, M, MIDNIGHT + 1) == pytest.approx(6)
    assert await budget.reserve("pk:abc|GET /api/events", M, MIDNIGHT + 1) == 0.0


def test_accounts_are_fingerprints_never_keys():
    account_of = Accounts().of_request
    private = account_of(metrics_request())
    public = account_of(UpstreamRequest("POST", "/client/events", (("company_id", "DemoPk"),)))
    assert private.startswith("pk:") and DEMO_PRIVATE_KEY not in private and DEMO_PRIVATE_KEY[3:] not in private
    assert public.startswith("pub:") and "DemoPk" not in public
    assert account_of(metrics_request("pk_" + "b" * 34)) != private


def test_a_public_token_and_its_private_key_are_one_account():
    """KLP_TOKEN_KEYS says which key a token belongs to: both spend one budget."""
    accounts = Accounts({"DemoPk": DEMO_PRIVATE_KEY})
    public = accounts.of_request(UpstreamRequest("POST", "/client/events", (("company_id", "DemoPk"),)))
    assert public == accounts.of_request(metrics_request())
    other = accounts.of_request(UpstreamRequest("POST", "/client/events", (("company_id", "OtherPk"),)))
    assert other.startswith("pub:") and other != public
    for _ in range(2):  # the legacy side's credentials name the same accounts, remembered or not
        assert accounts.of_credentials(Credentials(public_key="DemoPk")) == public == accounts.of_credentials(Credentials(DEMO_PRIVATE_KEY))
        assert accounts.of_credentials(Credentials(public_key="OtherPk")) == other


def test_the_accounts_remembered_per_public_token_are_bounded_under_a_flood_of_tokens():
    accounts = Accounts()
    seen = {accounts.of_credentials(Credentials(public_key=f"Tok{n}")) for n in range(3_000)}
    assert len(seen) == 3_000 and len(accounts._of_token) <= Accounts.MAX_COMPANIES


def governed(fake_time: FakeTime, outcomes, max_wait: float = 5.0) -> tuple[GovernedTransport, Scripted]:
    inner = Scripted(list(outcomes))
    transport = GovernedTransport(inner, TIERS, LocalBudget(), max_wait=max_wait, clock=fake_time.clock, sleep=fake_time.sleep)
    return transport, inner


async def test_requests_wait_for_the_next_window_instead_of_failing(fake_time):
    transport, inner = governed(fake_time, answers(200))
    for _ in range(25):
        assert (await transport.send(metrics_request())).status == 200
    assert len(inner.requests) == 25
    assert fake_time.now == pytest.approx(MIDNIGHT + 2, abs=0.01)  # 10 + 10 + 5 across three seconds


async def test_past_the_bounded_wait_the_answer_is_throttled_without_calling_upstream(fake_time):
    transport, inner = governed(fake_time, answers(200), max_wait=0.5)
    fake_time.now += 0.2
    for _ in range(10):
        await transport.send(metrics_request())
    with pytest.raises(UpstreamThrottled) as raised:
        await transport.send(metrics_request())
    assert raised.value.retry_after == 1 and raised.value.operation == "GET /api/metrics"
    assert len(inner.requests) == 10


async def test_a_429_holds_back_the_following_requests(fake_time):
    throttled = UpstreamResponse(429, {"Retry-After": "3"}, b"")
    transport, inner = governed(fake_time, [throttled, *answers(200)])
    assert (await transport.send(metrics_request())).status == 429
    assert (await transport.send(metrics_request())).status == 200
    assert fake_time.now == pytest.approx(MIDNIGHT + 3, abs=0.01)


async def test_operations_and_accounts_have_separate_budgets(fake_time):
    transport, inner = governed(fake_time, answers(200), max_wait=0)
    events = UpstreamRequest("GET", "/api/events", (), {"Authorization": f"Klaviyo-API-Key {DEMO_PRIVATE_KEY}"})
    for _ in range(10):
        await transport.send(metrics_request())
        await transport.send(metrics_request("pk_" + "c" * 34))
        await transport.send(events)
    assert len(inner.requests) == 30


async def test_paths_outside_the_revision_pass_ungoverned(fake_time):
    transport, inner = governed(fake_time, answers(404), max_wait=0)
    for _ in range(50):
        await transport.send(UpstreamRequest("GET", "/api/not-an-operation"))
    assert len(inner.requests) == 50


async def test_concurrent_legacy_bursts_get_no_429_from_a_sandbox_enforcing_real_limits(make_proxy, upstream):
    proxy = await make_proxy(state=forgetful_state())
    replies = await asyncio.gather(*(proxy.get("/api/v1/metrics", params={"api_key": DEMO_PRIVATE_KEY}) for _ in range(14)))
    assert [reply.status for reply in replies] == [200] * 14
    assert upstream.statuses() == [200] * 14  # get_metrics allows 10 a second: the rest waited


async def test_the_legacy_client_gets_a_legacy_429_when_the_wait_would_be_too_long(make_proxy, upstream):
    proxy = await make_proxy(governor_max_wait=0.0, state=forgetful_state())
    # More than two burst windows' worth at once: some must be refused, none may reach upstream.
    replies = await asyncio.gather(*(proxy.get("/api/v1/metrics", params={"api_key": DEMO_PRIVATE_KEY}) for _ in range(21)))
    throttled = [reply for reply in replies if reply.status == 429]
    assert throttled and len(throttled) + len(upstream.statuses()) == 21
    assert throttled[0].headers["Retry-After"] == "1"
    assert await throttled[0].json() == {"status": 429, "message": "Request was throttled. Expected available in 1 second."}
    assert set(upstream.statuses()) == {200}


async def test_a_request_sent_just_before_the_turn_counts_in_the_next_window_too():
    budget = LocalBudget()
    assert await take(budget, M, MIDNIGHT + 0.95, 10) == [0.0] * 10  # may land after MIDNIGHT + 1
    assert await budget.reserve(KEY, M, MIDNIGHT + 1.0) == pytest.approx(1.0)
    assert await budget.reserve(KEY, M, MIDNIGHT + 2.0) == 0.0


def list_request(counted: bool, *, may_wait: bool = True) -> UpstreamRequest:
    query = (("additional-fields[list]", "profile_count"),) if counted else ()
    headers = {"Authorization": f"Klaviyo-API-Key {DEMO_PRIVATE_KEY}", "revision": "2026-07-15"}
    return UpstreamRequest("GET", "/api/lists/L1", query, headers, may_wait=may_wait)


async def test_a_count_read_spends_its_own_lower_tier(fake_time):
    """`additional-fields[list]=profile_count` is 1/s and 15/m: the second in a second
    waits, while plain reads of the same operation go on."""
    transport, inner = governed(fake_time, answers(200))
    assert TIERS.tier_of(list_request(True)) == ("GET /api/lists/{id} additional-fields[list]=profile_count", RateLimit(1, 15, None))
    await transport.send(list_request(True))
    started = fake_time.now
    for _ in range(20):
        await transport.send(list_request(False))
    assert fake_time.now == started, "plain reads are in the 75/s tier"
    await transport.send(list_request(True))
    assert fake_time.now > started, "the second count waits for the next second"


async def test_a_request_that_may_not_wait_is_refused_at_once(fake_time):
    transport, inner = governed(fake_time, answers(200), max_wait=30.0)
    await transport.send(list_request(True, may_wait=False))
    started = fake_time.now
    with pytest.raises(UpstreamThrottled):
        await transport.send(list_request(True, may_wait=False))
    assert fake_time.now == started and len(inner.requests) == 1


class KeysAsked(LocalBudget):
    """A local budget that notes every key it is asked to reserve for."""

    def __init__(self) -> None:
        super().__init__()
        self.keys: list[str] = []

    async def reserve(self, key: str, limit: RateLimit, now: float) -> float:
        self.keys.append(key)
        return await super().reserve(key, limit, now)


async def test_each_request_spends_its_own_account_and_tier_though_budgets_are_remembered_per_request_shape(fake_time):
    budget = KeysAsked()
    transport = GovernedTransport(Scripted(list(answers(200))), TIERS, budget, max_wait=5.0, clock=fake_time.clock, sleep=fake_time.sleep)
    lowered = UpstreamRequest("GET", "/api/metrics", (), {"authorization": f"Klaviyo-API-Key {DEMO_PRIVATE_KEY}"})
    public = [UpstreamRequest("POST", "/client/events", (("company_id", company),)) for company in ("DemoPk", "OtherPk")]
    for request in [metrics_request(), lowered, metrics_request("pk_" + "c" * 34), *public, list_request(True), list_request(False)] * 2:
        await transport.send(request)
    accounts = Accounts()
    expected = [
        f"{accounts.of_request(metrics_request())}|GET /api/metrics",
        f"{accounts.of_request(metrics_request())}|GET /api/metrics",  # the same key, whatever the header name's case
        f"{accounts.of_request(metrics_request('pk_' + 'c' * 34))}|GET /api/metrics",
        f"{accounts.of_request(public[0])}|POST /client/events",
        f"{accounts.of_request(public[1])}|POST /client/events",
        f"{accounts.of_request(metrics_request())}|GET /api/lists/{{id}} additional-fields[list]=profile_count",
        f"{accounts.of_request(metrics_request())}|GET /api/lists/{{id}}",
    ]
    assert budget.keys[:7] == expected and set(budget.keys[7:]) == set(expected) and len(set(expected)) == 6  # (a second 1/s count read waits: asks again)


async def test_the_budgets_remembered_per_request_shape_are_bounded_under_a_flood_of_keys(fake_time):
    transport, inner = governed(fake_time, answers(200))
    for n in range(5_000):
        await transport.send(metrics_request(f"pk_{n:034d}"))
    assert len(inner.requests) == 5_000 and len(transport._spent) <= 4_096
