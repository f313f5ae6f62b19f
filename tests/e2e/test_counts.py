"""Legacy integer counts (issue 11 item 14): `person_count` of v1 list objects (the v1
listing and a campaign's lists) and a campaign's `num_recipients` are integers equal to
the real numbers; member counts are read within their 1/s tier only when its budget is
free now, kept in the shared state store, and never make a legacy read wait."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, replace

from proxy.app import create_app
from proxy.config import Settings
from proxy.newapi.messages import UpstreamRequest, UpstreamResponse
from proxy.sandbox.resources.lists import live_member_count
from proxy.sandbox.seed import DEMO_PRIVATE_KEY, DEMO_PUBLIC_KEY

KEY = {"api_key": DEMO_PRIVATE_KEY}
BURST_WINDOW = 1.1  # past the 1 s window of the profile_count tier


def real_counts(sandbox) -> dict[str, int]:
    account = sandbox.account(DEMO_PUBLIC_KEY)
    return {group.id: live_member_count(group, account.profiles) for group in (*account.lists, *account.segments)}


def count_calls(requests: list[UpstreamRequest]) -> list[str]:
    return [r.path for r in requests if any(name.startswith("additional-fields[") for name, _ in r.query)]


async def v1_lists(proxy) -> dict[str, int]:
    response = await proxy.get("/api/v1/lists", params=KEY)
    assert response.status == 200, await response.text()
    data = (await response.json())["data"]
    assert all(type(item["person_count"]) is int for item in data), "legacy readers sum person_count"
    return {item["id"]: item["person_count"] for item in data}


async def test_counts_are_the_membership_kept_and_shared_by_instances(aiohttp_client, contract, sandbox, tmp_path):
    """Two proxies on one state file, as two workers or a restart: the first counts what
    the tier allows each second; a second read within the cache time makes no count call;
    the other proxy answers the same counts without counting."""
    settings = replace(Settings(), state_path=tmp_path / "state.sqlite3")
    first = await aiohttp_client(create_app(settings, transport=contract))
    other = await aiohttp_client(create_app(settings, transport=contract))
    real = real_counts(sandbox)
    assert len(real) == 4 and all(real.values())

    seen = await v1_lists(first)
    assert len(count_calls(contract.requests)) == 2, "one list and one segment: the tier's burst"
    assert sum(seen[group] == real[group] for group in real) == 2 and set(seen.values()) <= {*real.values(), 0}
    await asyncio.sleep(BURST_WINDOW)
    assert await v1_lists(first) == real
    assert len(count_calls(contract.requests)) == 4

    assert await v1_lists(first) == real
    assert await v1_lists(other) == real
    assert len(count_calls(contract.requests)) == 4, "fresh counts are not read again, by either proxy"


@dataclass
class SpentTier:
    """An upstream whose profile_count tier another client of the account has spent: count
    reads get 429 with a Retry-After shorter than the governor's max wait (a waiting read
    would wait it out), everything else passes."""

    inner: object
    spent: bool = False

    async def send(self, request: UpstreamRequest) -> UpstreamResponse:
        if self.spent and count_calls([request]):
            return UpstreamResponse(429, {"Retry-After": "3", "Content-Type": "application/vnd.api+json"}, b'{"errors": []}')
        return await self.inner.send(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


async def test_a_spent_tier_answers_at_once_with_the_last_known_count_or_zero(aiohttp_client, contract, sandbox):
    upstream = SpentTier(contract)
    proxy = await aiohttp_client(create_app(replace(Settings(), governor_max_wait=10.0), transport=upstream))
    real = real_counts(sandbox)
    counted = {group: count for group, count in (await v1_lists(proxy)).items() if count == real[group]}
    assert len(counted) == 2

    upstream.spent = True
    await asyncio.sleep(BURST_WINDOW)
    spent = await v1_lists(proxy)  # the uncounted two are asked for and refused (429, not retried)
    assert spent == {group: counted.get(group, 0) for group in real}
    asked = len(contract.requests)

    started = time.monotonic()
    again = await v1_lists(proxy)  # the governor now knows the tier is spent for 3 s
    elapsed = time.monotonic() - started
    assert again == spent
    assert elapsed < 1.0, f"a count never makes a legacy read wait ({elapsed:.2f} s)"
    assert count_calls(contract.requests[asked:]) == [], "refused by the governor without reaching upstream"


async def test_campaigns_carry_member_and_recipient_counts(proxy, sandbox, contract):
    account = sandbox.account(DEMO_PUBLIC_KEY)
    spring = next(c for c in account.campaigns if c.name == "Spring launch")
    campaign = await (await proxy.get(f"/api/v1/campaign/{spring.id}", params=KEY)).json()
    real = real_counts(sandbox)
    for group in (*campaign["lists"], *campaign["excluded_lists"]):
        assert group["person_count"] == real[group["id"]] and type(group["person_count"]) is int

    emails, offset = [], None
    while True:
        params = {**KEY, "count": "2", **({"offset": offset} if offset else {})}
        page = await (await proxy.get(f"/api/v1/campaign/{spring.id}/recipients", params=params)).json()
        emails += [recipient["email"] for recipient in page["data"]]
        if not (offset := page["next_offset"]):
            break
    assert campaign["num_recipients"] == len(emails) > 0, "as many as the recipients the proxy lists"

    requests = len(contract.requests)
    listed = await (await proxy.get("/api/v1/campaigns", params=KEY)).json()
    numbers = {c["name"]: c["num_recipients"] for c in listed["data"]}
    assert numbers == {"Spring launch": len(emails), "Summer preview": 0, "Weekend sale": 0, "Flash sale": 0}
    assert "/api/campaign-recipient-estimations/" + spring.id not in [r.path for r in contract.requests[requests:]], "kept"
