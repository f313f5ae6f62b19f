"""Upstream faults end in legacy errors, the proxy recovers, and nothing leaks."""

import asyncio
import os
import time

import pytest

from proxy.app import create_app
from proxy.config import Settings
from proxy.sandbox.faults import Faults, FaultyTransport
from proxy.sandbox.seed import DEMO_PRIVATE_KEY as PRIVATE_KEY

FAULTS = {
    "resets": ({"resets": 1.0}, 503),
    "server errors": ({"server_errors": 1.0}, 503),
    "truncated bodies": ({"truncated": 1.0}, 503),
    "429 storm": ({"throttles": 1.0, "retry_after": 1}, 429),
}


@pytest.fixture
async def faulty(aiohttp_client, contract):
    transport = FaultyTransport(contract, Faults())
    client = await aiohttp_client(create_app(Settings(retry_budget=0.0, governor_max_wait=0.0), transport=transport))
    return client, transport.faults


@pytest.mark.parametrize("fault", FAULTS, ids=list(FAULTS))
async def test_reads_fail_in_the_legacy_dialect_then_recover(faulty, fault):
    proxy, faults = faulty
    changes, status = FAULTS[fault]
    faults.update(**changes)
    started = time.perf_counter()
    response = await proxy.get("/api/v1/metrics", params={"api_key": PRIVATE_KEY})
    assert time.perf_counter() - started < 1.0
    assert response.status == status
    body = await response.json()
    assert set(body) == {"status", "message"} and body["status"] == status
    if status == 429:
        assert response.headers["Retry-After"] == "1"
        await asyncio.sleep(1.05)  # the proxy honours Retry-After before it calls again
    faults.clear()
    assert (await proxy.get("/api/v1/metrics", params={"api_key": PRIVATE_KEY})).status == 200


async def test_track_answers_zero_while_upstream_fails(faulty):
    proxy, faults = faulty
    faults.update(resets=1.0)
    data = '{"token": "DemoPk", "event": "E", "customer_properties": {"$email": "fault@example.com"}}'
    assert await (await proxy.post("/api/track", data={"data": data})).text() == "0"


def open_descriptors() -> int:
    return len(os.listdir("/proc/self/fd"))


async def test_ten_thousand_faulted_requests_leave_no_residue(faulty):
    proxy, faults = faulty
    faults.update(resets=0.3, server_errors=0.3, truncated=0.2)
    await proxy.get("/api/v1/metrics", params={"api_key": PRIVATE_KEY})  # warm the connection pool
    tasks_before, fds_before = len(asyncio.all_tasks()), open_descriptors()
    statuses: dict[int, int] = {}

    async def one() -> None:
        response = await proxy.get("/api/v1/metrics", params={"api_key": PRIVATE_KEY})
        await response.read()
        statuses[response.status] = statuses.get(response.status, 0) + 1

    for _ in range(100):
        await asyncio.gather(*(one() for _ in range(100)))
    assert sum(statuses.values()) == 10_000
    assert set(statuses) <= {200, 429, 503}, statuses  # 429: the governor keeps get_metrics to its tier
    faults.clear()
    await proxy.session.close()  # end the test client's keep-alive connections
    await asyncio.sleep(0.2)
    assert len(asyncio.all_tasks()) <= tasks_before
    assert open_descriptors() <= fds_before + 2
