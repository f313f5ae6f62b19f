"""State that later requests rely on, shared by real processes (issue 12): `serve
--workers 2` on the SQLite state file, two replicas on one Redis, and a restart. Legacy
marker walks go to the end whichever process serves each batch; two workers spend one
account's budget together; the usage inventory counts calls served by either."""

from __future__ import annotations

import asyncio
import os

import aiohttp
import pytest
from processes import ROOT, ProxyProcess, Upstream, early_in_a_second, free_port
from test_redis import assert_one_budget

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
            route = "GET /api/v2/group/{group_id}/members/all"
            deadline = asyncio.get_running_loop().time() + 30  # each worker merges its counts every second
            while (counted := await usage_calls(session, proxy.url, route)) < batches and asyncio.get_running_loop().time() < deadline:
                await asyncio.sleep(0.2)
            assert counted == batches

            # Two workers together never exceed the account's budget (get_campaign: 10 a second).
            campaign = next(iter(upstream.sandbox.accounts[0].campaigns))

            async def read(_: int) -> int:
                async with session.get(f"{proxy.url}/api/v1/campaign/{campaign.id}", params={"api_key": DEMO_PRIVATE_KEY}) as reply:
                    return reply.status

            await read(0)  # its lists are looked up once, then cached
            started = await early_in_a_second()
            assert await asyncio.gather(*(read(n) for n in range(16))) == [200] * 16
    finally:
        assert proxy.terminate() == 0, log.read_text()[-2000:]
        await upstream.stop()
    assert_one_budget(upstream.arrivals(f"GET /api/campaigns/{campaign.id}", since=started), started)
