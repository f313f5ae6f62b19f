"""Redis for many replicas, against a real redis-server: one rate budget per account
shared by all replicas, and one spool any replica delivers from."""

import asyncio
import json
import math
import os
import time

import aiohttp
from processes import ROOT, ProxyProcess, Upstream, early_in_a_second, free_port, track, wait_until
from redis.asyncio import Redis

from proxy.engine.generations import generation, touched
from proxy.engine.state import BY_GENERATION, IMMUTABLE, WALKS
from proxy.openapi.spec import RateLimit
from proxy.redis_backend.budget import RedisBudget
from proxy.redis_backend.spool import RedisSpool
from proxy.redis_backend.state import RedisValues
from proxy.sandbox.seed import DEMO_PRIVATE_KEY, DEMO_PUBLIC_KEY
from proxy.spool.records import EVENT, Accepted
from proxy.state.front import Fronted
from proxy.upstream.budget import Feedback

M = RateLimit(burst=10, steady=150, daily=None)
KEY = "pk:abc|GET /api/metrics"
NOW = 1_750_000_000.0
BULK = "POST /api/event-bulk-create-jobs"


def item(n: int) -> Accepted:
    return Accepted(EVENT, "DemoPk", b'{"n": %d}' % n, NOW + n)


async def test_replicas_share_one_budget(redis_url):
    first, second = RedisBudget(Redis.from_url(redis_url)), RedisBudget(Redis.from_url(redis_url))
    await asyncio.sleep(1 - time.time() % 1 + 0.05)  # early in a second: this burst window holds all
    taken = [await budget.reserve(KEY, M, 0) for budget in (first, second) for _ in range(6)]
    assert taken[:10] == [0.0] * 10  # ten between them, whichever replica asks
    assert 0 < taken[10] <= 1 and 0 < taken[11] <= 1
    await first.aclose()
    await second.aclose()


async def test_upstream_feedback_is_shared_too(redis_url):
    first, second = RedisBudget(Redis.from_url(redis_url)), RedisBudget(Redis.from_url(redis_url))
    await first.observe(KEY, M, Feedback(retry_after=5), 0)
    assert 4 < await second.reserve(KEY, M, 0) <= 5
    other = "pk:abc|GET /api/events"
    await first.observe(other, M, Feedback(limit=150, remaining=0, reset=20), 0)
    assert 19 < await second.reserve(other, M, 0) <= 20
    await first.aclose()
    await second.aclose()


async def test_replicas_keep_a_snapshot_no_longer_than_redis_and_see_each_others_generations(redis_url):
    clients = [Redis.from_url(redis_url) for _ in range(2)]
    first, second = (Fronted(RedisValues(client), IMMUTABLE, BY_GENERATION) for client in clients)
    name = f"{WALKS}acct-{time.time_ns()}:templates:0:listing"
    await first.put(name, b"snapshot", 0.5)
    ((value, left),) = await second.get_many_expiring([name])
    assert value == b"snapshot" and 0 < left <= 0.5
    assert await second.get(name) == b"snapshot"  # kept by the second replica too, for what Redis has left
    await asyncio.sleep(0.6)
    assert await second.get(name) is None and await first.get(name) is None
    family = f"acct-{time.time_ns()}"
    assert await generation(first, family, "templates") == 0
    await touched(second, family, "/api/templates")
    assert await generation(first, family, "templates") == 1
    for client in clients:
        await client.aclose()


async def test_the_redis_spool_keeps_order_leases_postpones_and_buries(redis_url):
    spool = await RedisSpool.open(redis_url, lease=60)
    await asyncio.gather(*(spool.accept(item(n)) for n in range(5)))
    claimed = await spool.claim(10, NOW + 100, NOW + 100)
    assert [s.item for s in claimed] == [item(n) for n in range(5)]
    assert await spool.claim(10, NOW + 100, NOW + 100) == []  # handed out already
    await spool.complete([claimed[0].id])
    await spool.postpone([claimed[1].id], until=0)  # due at once
    await spool.bury([claimed[2].id], "400 invalid: bad email", NOW)
    status = await spool.status(NOW + 10)
    assert (status.pending, status.dead, status.dead_reasons) == (3, 1, (("400 invalid: bad email", 1),))
    again = await spool.claim(10, NOW + 100, NOW + 100)
    assert [(s.item, s.attempts) for s in again] == [(item(1), 1)]
    assert await spool.retry_dead() == 1
    (revived,) = await spool.claim(10, NOW + 100, NOW + 100)
    assert revived.item == item(2)
    await spool.bury([revived.id], "400 invalid: still bad", NOW)
    assert await spool.purge_dead() == 1
    assert (await spool.status(NOW)).dead == 0
    await spool.close()


async def test_a_silent_replicas_writes_are_claimed_after_the_lease(redis_url):
    dying = await RedisSpool.open(redis_url, lease=0.3)
    await dying.accept(item(1))
    assert len(await dying.claim(10, NOW + 10, NOW + 10)) == 1  # ...and it never settles them
    survivor = await RedisSpool.open(redis_url, lease=0.3)
    assert await survivor.claim(10, NOW + 10, NOW + 10) == []
    await asyncio.sleep(0.4)
    (taken,) = await survivor.claim(10, NOW + 10, NOW + 10)
    assert taken.item == item(1)
    await survivor.complete([taken.id])
    assert (await survivor.status(NOW)).pending == 0
    await survivor.close()


async def test_a_proxy_delivers_through_the_redis_spool(make_proxy, redis_url, sandbox, upstream):
    proxy = await make_proxy(delivery="spool", redis_url=redis_url, spool_linger=0.0, private_key=DEMO_PRIVATE_KEY)
    for n in range(30):
        data = json.dumps({"token": DEMO_PUBLIC_KEY, "event": "Redis", "customer_properties": {"$email": "r@example.com"}, "properties": {"n": n}})
        assert await (await proxy.post("/api/track", data={"data": data})).text() == "1"
    (account,) = sandbox.accounts

    def delivered() -> int:
        sandbox.run_due_jobs()  # what any read would do first: accepted bulk jobs run
        return sum(1 for e in account.events if "n" in e.event_properties)

    await wait_until(lambda: delivered() >= 30, seconds=10)
    assert sorted(e.event_properties["n"] for e in account.events if "n" in e.event_properties) == list(range(30))
    client = Redis.from_url(redis_url)
    await wait_until_async(lambda: client.xlen("klp:spool:stream"), 0)
    ready = await (await proxy.get("/readyz")).json()
    assert ready["spool"]["ok"] and ready["spool"]["pending"] == 0
    await client.aclose()


def environment(upstream: Upstream, redis_url: str, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "KLP_UPSTREAM": f"http://127.0.0.1:{upstream.port}",
        "REDIS_URL": redis_url,
        "KLP_LOG_LEVEL": "warning",
        "KLP_ADMIN": "false",
        **extra,
    }


async def test_two_proxy_processes_never_exceed_one_accounts_budget_together(redis_url, tmp_path):
    upstream = Upstream(free_port())
    await upstream.start()
    # A call that lands in the next second on a busy machine may meet a 429 (then retried):
    # time enough to wait and retry, so every read ends 200; the budget is judged below.
    env = environment(upstream, redis_url, KLP_GOVERNOR_MAX_WAIT="10", KLP_RETRY_BUDGET="30")
    log = tmp_path / "proxies.log"
    async with aiohttp.ClientSession() as session:
        replicas = [ProxyProcess(env, log), ProxyProcess(env, log)]
        await asyncio.gather(*(replica.ready(session) for replica in replicas))

        # A campaign read is two calls every time (its lists come from the lookups cache).
        campaign = next(iter(upstream.sandbox.accounts[0].campaigns))

        async def campaign_read(replica: ProxyProcess) -> int:
            async with session.get(f"{replica.url}/api/v1/campaign/{campaign.id}", params={"api_key": DEMO_PRIVATE_KEY}) as reply:
                return reply.status

        assert await campaign_read(replicas[0]) == 200  # its lists are looked up once, then cached
        started = await early_in_a_second()
        statuses = await asyncio.gather(*(campaign_read(replica) for replica in replicas for _ in range(8)))
        for replica in replicas:
            assert replica.terminate() == 0
    await upstream.stop()
    assert statuses == [200] * 16, log.read_text()[-2000:]
    assert_one_budget(upstream.arrivals(f"GET /api/campaigns/{campaign.id}", since=started), started)


def assert_one_budget(arrivals: list[float], started: float, burst: int = 10) -> None:
    """Each replica alone would admit all of its own (8 ≤ get_campaign's 10 a second), so
    two budgets would send all 16 in the first second. One shared budget sends at most
    `burst` in each second (every attempt, retries included, takes from it).

    Counted by arrival at the upstream, cumulatively: a call arrives after it is sent, so
    the calls that arrived before the end of the k-th second since `started` were all
    sent within those k seconds, at most k·burst of them. A busy machine only delays
    arrivals, which can only lower these counts; `started` is early in a second, so two
    budgets' burst lands in the first one."""
    first = math.floor(started)
    for window in range(first, math.floor(max(arrivals)) + 1):
        early = sum(1 for moment in arrivals if moment < window + 1)
        assert early <= burst * (window - first + 1), (window - first, sorted(moment - first for moment in arrivals))


async def test_killing_a_replica_mid_delivery_loses_nothing(redis_url, tmp_path):
    upstream = Upstream(free_port())
    upstream.hold(BULK)  # a delivery stays in flight (received, not answered) until released
    await upstream.start()
    env = environment(
        upstream, redis_url, KLP_PRIVATE_KEY=DEMO_PRIVATE_KEY, KLP_DELIVERY="spool", KLP_SPOOL_LINGER="0.1",
        KLP_SPOOL_LEASE="1", KLP_SPOOL_MAX_BACKOFF="0.5",
    )
    log = tmp_path / "proxies.log"
    mark = "kill-run"
    async with aiohttp.ClientSession() as session:
        doomed = ProxyProcess(env, log)
        await doomed.ready(session)
        answers = await track(session, doomed, range(0, 400), mark)
        await wait_until(lambda: upstream.arrivals(BULK), seconds=30)
        assert upstream.arrivals(BULK), "the doomed replica did not deliver"
        doomed.kill()  # SIGKILL mid-delivery: no drain, what it claimed stays claimed by a dead consumer
        assert not any(operation == BULK for _, operation, _ in upstream.answered)  # it never heard back
        upstream.release()
        # Started only now, so the delivery in flight at the kill was surely the doomed one's.
        survivor = ProxyProcess(env, log)
        await survivor.ready(session)
        answers += await track(session, survivor, range(400, 500), mark)
        client = Redis.from_url(redis_url)
        await wait_until_async(lambda: client.xlen("klp:spool:stream"), 0, seconds=60)  # the survivor claimed the rest
        assert await client.zcard("klp:spool:delayed") == 0
        await client.aclose()
        assert survivor.terminate() == 0
    await upstream.stop()
    assert answers == ["1"] * 500
    # The last bulk job was accepted just now; the sandbox runs a job a moment after it
    # accepts it, as Klaviyo does, and only then are its events there to count.
    await wait_until(lambda: len(upstream.numbers(mark)) >= 500, seconds=5)
    assert sorted(upstream.numbers(mark)) == list(range(500)), log.read_text()[-2000:]  # each exactly once


async def wait_until_async(read, expected, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while await read() != expected:
        assert time.monotonic() < deadline, f"still {await read()}"
        await asyncio.sleep(0.1)


async def test_state_store_outage_is_shared_state_unavailable_not_a_500():
    """Markers, snapshots and lookups in Redis: with Redis unreachable the engine gets
    `SharedStateUnavailable` (its legacy 503), as for the shared budget."""
    import pytest

    from proxy.newapi.errors import SharedStateUnavailable
    from proxy.redis_backend.client import connect
    from proxy.redis_backend.state import RedisValues

    client = connect(f"redis://127.0.0.1:{free_port()}")
    values = RedisValues(client)
    for attempt in (values.get("marker:1"), values.get_many(["a"]), values.put("a", b"1", 60), values.put_new("a", b"1", 60), values.bump("n", 60)):
        with pytest.raises(SharedStateUnavailable):
            await attempt
    await client.aclose()
