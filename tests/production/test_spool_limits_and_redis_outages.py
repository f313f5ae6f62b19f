"""The write path under abuse and outages (issue 16, items 3, 6, 7, 11): the spool takes
only what can be delivered and only up to its size, dead letters do not pile up forever,
a Redis outage gets legacy answers and heals by itself, and a slow delivery keeps its
lease so no other replica sends it again."""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
from dataclasses import dataclass, field

import pytest
import redis
from processes import free_port, wait_until

from proxy import metrics
from proxy.redis_backend.spool import RedisSpool
from proxy.sandbox.seed import DEMO_PRIVATE_KEY, DEMO_PUBLIC_KEY
from proxy.spool.records import EVENT, Accepted, DeadLetterLimits
from proxy.spool.sqlite import SQLiteSpool
from proxy.newapi.messages import UpstreamRequest, UpstreamResponse
from proxy.newapi.transport import Transport

NOW = 1_750_000_000.0


def payload(token: str = DEMO_PUBLIC_KEY, **properties) -> dict[str, str]:
    event = {"token": token, "event": "Limits", "customer_properties": {"$email": "lim@example.com"}, "properties": properties}
    return {"data": json.dumps(event)}


def refused(reason: str) -> float:
    return metrics.SPOOL_REFUSED.labels(EVENT, reason)._value.get()


class RedisProcess:
    """A redis-server of the test's own, stopped and started again on the same port and
    data directory (append-only file on, as production runs it)."""

    def __init__(self, binary: str, directory) -> None:
        self.binary, self.port, self.directory = binary, free_port(), directory
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        command = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                   "--dir", str(self.directory), "--appendonly", "yes", "--appendfsync", "always"]  # fmt: skip
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        client, deadline = redis.Redis.from_url(self.url), time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)
        client.close()

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


@pytest.fixture
def own_redis(redis_binary, tmp_path):
    server = RedisProcess(redis_binary, tmp_path)
    server.start()
    yield server
    if server.process.poll() is None:
        server.stop()


# -- 6. the spool's front door and its limits ----------------------------------------


async def test_the_spool_refuses_writes_upstream_would_refuse_with_0(make_proxy, tmp_path, upstream):
    proxy = await make_proxy(delivery="spool", spool_path=tmp_path / "spool.sqlite3", spool_linger=60.0)
    before_token, before_size = refused("token"), refused("size")
    cases = {
        "not a public key": payload(token="Abcdef123456"),
        "a 150 KB property": payload(note="x" * 150_000),
        "401 properties": payload(**{f"p{n}": n for n in range(401)}),
    }
    for case, form in cases.items():
        assert await (await proxy.post("/api/track", data=form)).text() == "0", case
    assert await (await proxy.post("/api/track", data=payload(n=1))).text() == "1"
    assert (refused("token") - before_token, refused("size") - before_size) == (1, 2)
    ready = await (await proxy.get("/readyz")).json()
    assert ready["spool"]["pending"] == 1  # only the deliverable write was kept
    assert upstream.exchanges == []


async def test_a_full_spool_answers_0_instead_of_growing(make_proxy, tmp_path):
    proxy = await make_proxy(delivery="spool", spool_path=tmp_path / "spool.sqlite3", spool_linger=60.0, spool_max_bytes=4_000)
    before = refused("full")
    answers = [await (await proxy.post("/api/track", data=payload(n=n, pad="y" * 900))).text() for n in range(8)]
    assert answers[:3] == ["1"] * 3 and answers[-1] == "0"
    kept = answers.count("1")
    assert refused("full") - before == 8 - kept
    assert (await (await proxy.get("/readyz")).json())["spool"]["pending"] == kept


def stored(n: int) -> Accepted:
    return Accepted(EVENT, DEMO_PUBLIC_KEY, b'{"n": %d}' % n, NOW + n)


async def bury_five(spool) -> None:
    for n in range(5):
        await spool.accept(stored(n))
    claimed = await spool.claim(10, NOW + 100, NOW + 100)
    await spool.bury([claimed[0].id], "400 old", NOW - 1_000)  # past the age limit by the next burial
    for item in claimed[1:]:
        await spool.bury([item.id], "400 refused", NOW)


async def test_sqlite_dead_letters_are_capped_by_age_and_count(tmp_path):
    spool = await SQLiteSpool.open(tmp_path / "spool.sqlite3", dead_limits=DeadLetterLimits(max_count=3, max_age=500))
    dropped = {limit: metrics.SPOOL_DEAD_DROPPED.labels(limit)._value.get() for limit in ("age", "count")}
    await bury_five(spool)
    status = await spool.status(NOW)
    assert status.dead == 3 and status.dead_reasons == (("400 refused", 3),)
    assert metrics.SPOOL_DEAD_DROPPED.labels("age")._value.get() - dropped["age"] == 1
    assert metrics.SPOOL_DEAD_DROPPED.labels("count")._value.get() - dropped["count"] == 1
    assert await spool.pending_bytes() == 0
    await spool.close()


async def test_redis_dead_letters_are_capped_by_age_and_count(redis_url):
    spool = await RedisSpool.open(redis_url, lease=60, dead_limits=DeadLetterLimits(max_count=3, max_age=500))
    await bury_five(spool)
    status = await spool.status(NOW)
    assert status.dead == 3 and status.dead_reasons == (("400 refused", 3),)
    assert await spool.pending_bytes() == 0
    assert await spool.retry_dead() == 3
    await asyncio.sleep(0.6)  # past the counter's freshness
    assert await spool.pending_bytes() == 3 * len(stored(0).body)
    await spool.close()


# -- 7. Redis down -------------------------------------------------------------------


async def test_with_redis_down_reads_get_a_legacy_503_then_recover(make_proxy, own_redis):
    proxy = await make_proxy(redis_url=own_redis.url)
    params = {"api_key": DEMO_PRIVATE_KEY}
    assert (await proxy.get("/api/v1/metrics", params=params)).status == 200
    own_redis.stop()
    down = await proxy.get("/api/v1/metrics", params=params)
    assert down.status == 503 and down.headers["Retry-After"] == "5"
    assert (await down.json())["status"] == 503
    v2 = await proxy.get("/api/v2/lists", params=params)
    assert v2.status == 503 and "detail" in await v2.json()
    own_redis.start()
    assert (await proxy.get("/api/v1/metrics", params=params)).status == 200


async def test_with_redis_down_the_spool_answers_0_hides_its_address_and_recovers(make_proxy, own_redis, sandbox):
    proxy = await make_proxy(delivery="spool", redis_url=own_redis.url, spool_linger=0.0, spool_max_backoff=0.5)
    assert await (await proxy.post("/api/track", data=payload(n=1))).text() == "1"
    own_redis.stop()
    assert await (await proxy.post("/api/track", data=payload(n=2))).text() == "0"
    ready = await proxy.get("/readyz")
    text = await ready.text()
    assert ready.status == 503 and json.loads(text)["spool"] == {"ok": False}
    assert str(own_redis.port) not in text and "127.0.0.1" not in text and "redis" not in text.lower()
    own_redis.start()
    assert await (await proxy.post("/api/track", data=payload(n=3))).text() == "1"
    (account,) = sandbox.accounts
    await wait_until(lambda: {1, 3} <= {e.event_properties.get("n") for e in account.events}, seconds=15)
    assert 2 not in {e.event_properties.get("n") for e in account.events}
    assert (await proxy.get("/readyz")).status == 200


# -- 11. the lease is renewed while delivering ---------------------------------------


@dataclass
class Slow:
    """Upstream that takes `delay` seconds per call, counting the writes it receives."""

    inner: Transport
    delay: float
    writes: list[str] = field(default_factory=list)

    async def send(self, request: UpstreamRequest) -> UpstreamResponse:
        if request.method == "POST":
            self.writes.append(request.path)
        await asyncio.sleep(self.delay)
        return await self.inner.send(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


async def test_a_delivery_slower_than_the_lease_is_not_sent_twice(aiohttp_client, contract, redis_url, sandbox):
    from dataclasses import replace

    from proxy.app import create_app
    from proxy.config import Settings

    slow = Slow(contract, delay=2.0)
    settings = replace(Settings(), delivery="spool", redis_url=redis_url, spool_lease=0.6, spool_linger=0.0,
                       private_key=DEMO_PRIVATE_KEY, rate_governor=False, retry_budget=0.0)  # fmt: skip
    first = await aiohttp_client(create_app(settings, transport=slow))
    await aiohttp_client(create_app(settings, transport=slow))  # another replica, idle and watching the lease
    assert await (await first.post("/api/track", data=payload(n=7))).text() == "1"
    (account,) = sandbox.accounts
    await wait_until(lambda: any(e.event_properties.get("n") == 7 for e in account.events), seconds=10)
    await asyncio.sleep(2.5)  # time for a second delivery to land, had one been sent
    assert slow.writes == ["/api/events"]
