"""State that later requests rely on, shared by real processes (issue 12): `serve
--workers 2` on the SQLite state file, two replicas on one Redis, and a restart. Legacy
marker walks go to the end whichever process serves each batch; two workers spend one
account's budget together; the usage inventory counts calls served by either."""

from __future__ import annotations

import asyncio
import os
import time

import aiohttp
import pytest
from processes import ROOT, ProxyProcess, Upstream, free_port

from proxy.config import SettingsError, load_settings
from proxy.sandbox.groups import MailingList
from proxy.sandbox.seed import DEMO_PRIVATE_KEY
from proxy.sandbox.store import Consent, Profile

MEMBERS = 5_000
LIST_ID = "WalkLs"
MEMBERS_ALL = f"/api/v2/group/{LIST_ID}/members/all"


def with_a_big_list(upstream: Upstream) -> None:
    (account,) = upstream.sandbox.accounts
    group = MailingList(LIST_ID, "Walked", 0.0, 0.0)
    for index in range(MEMBERS):
        profile = Profile(f"01WALK{index:020}", 0.0, 0.0, email=f"w{index:05}@example.com")
        profile.subscriptions.email_marketing = Consent("SUBSCRIBED", 0.0, "API")
        account.profiles.add(profile)
        group.members.add(profile.id, 1_000.0 + index)
    account.lists.add(group)


def environment(upstream: Upstream, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "KLP_UPSTREAM": f"http://127.0.0.1:{upstream.port}",
        "KLP_LOG_LEVEL": "warning",
        "KLP_GOVERNOR_MAX_WAIT": "10",
        **extra,
    }


async def walk(session: aiohttp.ClientSession, urls: list[str]) -> tuple[list[str], set[str]]:
    """Every member's email, each batch asked of the next url in turn; and which
    processes answered (the request id starts with the process's own id)."""
    emails: list[str] = []
    processes: set[str] = set()
    marker = None
    for turn in range(100):
        params = {"api_key": DEMO_PRIVATE_KEY, **({"marker": str(marker)} if marker is not None else {})}
        async with session.get(urls[turn % len(urls)] + MEMBERS_ALL, params=params) as reply:
            body = await reply.json()
            assert reply.status == 200, body
            processes.add(reply.headers["X-Request-Id"].split("-")[0])
        emails += [record["email"] for record in body["records"]]
        marker = body.get("marker")
        if marker is None:
            return emails, processes
        assert isinstance(marker, int)
    raise AssertionError("the walk did not end")


async def usage_calls(session: aiohttp.ClientSession, url: str, route: str) -> int:
    async with session.get(f"{url}/__proxy/usage") as reply:
        rows = (await reply.json())["routes"]
    return sum(row["calls"] for row in rows if row["route"] == route)


async def test_two_workers_walk_a_big_group_to_the_end_and_share_budget_and_inventory(tmp_path):
    upstream = Upstream(free_port())
    with_a_big_list(upstream)
    await upstream.start()
    env = environment(upstream, KLP_WORKERS="2", KLP_SPOOL_PATH=str(tmp_path / "spool.sqlite3"))
    log = tmp_path / "proxy.log"
    proxy = ProxyProcess(env, log)
    expected = [f"w{index:05}@example.com" for index in range(MEMBERS)]
    try:
        # A fresh connection per request, so the kernel spreads batches over both workers.
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as session:
            await proxy.ready(session)
            answered_by: set[str] = set()
            walks = 4
            for _ in range(walks):
                emails, processes = await walk(session, [proxy.url])
                assert emails == expected  # every member once, in joining order
                answered_by |= processes
            assert len(answered_by) == 2, "both workers served batches"

            # The inventory is one, whichever worker is asked and whichever served.
            batches = walks * (MEMBERS // 1000)
            await asyncio.sleep(1.5)  # each worker merges its counts every second
            assert await usage_calls(session, proxy.url, "GET /api/v2/group/{group_id}/members/all") == batches

            # Two workers together never exceed the account's budget: get_campaign allows 10 a second.
            campaign = next(iter(upstream.sandbox.accounts[0].campaigns))
            started = time.time()

            async def read(_: int) -> int:
                async with session.get(f"{proxy.url}/api/v1/campaign/{campaign.id}", params={"api_key": DEMO_PRIVATE_KEY}) as reply:
                    return reply.status

            assert await asyncio.gather(*(read(n) for n in range(30))) == [200] * 30
    finally:
        assert proxy.terminate() == 0, log.read_text()[-2000:]
        await upstream.stop()
    reads = [(moment, status) for moment, operation, status in upstream.answered
             if operation == f"GET /api/campaigns/{campaign.id}" and moment >= started]
    assert len(reads) == 30 and {status for _, status in reads} == {200}
    per_second: dict[int, int] = {}
    for moment, _ in reads:
        per_second[int(moment)] = per_second.get(int(moment), 0) + 1
    assert max(per_second.values()) <= 10, per_second


async def test_two_replicas_on_one_redis_walk_a_big_group_to_the_end(redis_url, tmp_path):
    upstream = Upstream(free_port())
    with_a_big_list(upstream)
    await upstream.start()
    env = environment(upstream, REDIS_URL=redis_url)
    log = tmp_path / "proxies.log"
    replicas = [ProxyProcess(env, log), ProxyProcess(env, log)]
    try:
        async with aiohttp.ClientSession() as session:
            await asyncio.gather(*(replica.ready(session) for replica in replicas))
            urls = [replica.url for replica in replicas]
            for _ in range(2):  # batches alternate between the replicas, as a load balancer may send them
                emails, processes = await walk(session, urls)
                assert emails == [f"w{index:05}@example.com" for index in range(MEMBERS)]
                assert len(processes) == 2
            await asyncio.sleep(1.5)
            assert await usage_calls(session, urls[0], "GET /api/v2/group/{group_id}/members/all") == 10
    finally:
        for replica in replicas:
            assert replica.terminate() == 0, log.read_text()[-2000:]
        await upstream.stop()


async def test_a_marker_given_before_a_restart_is_honoured_after_it(tmp_path):
    upstream = Upstream(free_port())
    with_a_big_list(upstream)
    await upstream.start()
    env = environment(upstream, KLP_STATE_PATH=str(tmp_path / "state.sqlite3"))
    log = tmp_path / "proxy.log"
    params = {"api_key": DEMO_PRIVATE_KEY}
    try:
        async with aiohttp.ClientSession() as session:
            before = ProxyProcess(env, log)
            await before.ready(session)
            async with session.get(before.url + MEMBERS_ALL, params=params) as reply:
                first = await reply.json()
            assert before.terminate() == 0
            after = ProxyProcess(env, log)
            await after.ready(session)
            for _ in range(2):  # a retried marker answers the same batch
                async with session.get(after.url + MEMBERS_ALL, params={**params, "marker": str(first["marker"])}) as reply:
                    assert reply.status == 200, await reply.text()
                    second = await reply.json()
                assert second["records"][0]["email"] == "w01000@example.com"
            assert after.terminate() == 0
    finally:
        await upstream.stop()
    assert len(first["records"]) == len(second["records"]) == 1000


def test_workers_without_shared_state_stop_start_up_with_one_line(tmp_path):
    with pytest.raises(SettingsError) as raised:
        load_settings(environ={"KLP_WORKERS": "2", "KLP_STATE_PATH": "memory"})
    assert str(raised.value).startswith("setting workers>1 needs shared state: set state_path (KLP_STATE_PATH) or redis_url")
    assert "\n" not in str(raised.value)
    beside = load_settings(environ={"KLP_SPOOL_PATH": str(tmp_path / "spool.sqlite3")})
    assert beside.state_path == tmp_path / "klaviyo-legacy-proxy-state.sqlite3"
    assert load_settings(environ={"KLP_WORKERS": "2", "REDIS_URL": "redis://x", "KLP_STATE_PATH": ""}).state_path is None
