"""The official legacy Python client (klaviyo==3.1.7), unmodified, driving every list,
member, subscription and segment call it offers through the proxy."""

from __future__ import annotations

import asyncio

import pytest
from list_helpers import account, demo_list, demo_segment, new_members


@pytest.fixture
def lists(legacy_client):
    return legacy_client.Lists


async def call(function, *args):
    response = await asyncio.to_thread(function, *args)
    assert response.status_code == 200
    return response.data


async def test_list_lifecycle(lists, sandbox):
    created = await call(lists.create_list, "Legacy made")
    listed = await call(lists.get_lists)
    assert {"list_id": created["list_id"], "list_name": "Legacy made"} in listed
    assert (await call(lists.get_list_by_id, created["list_id"]))["list_name"] == "Legacy made"
    assert await call(lists.update_list_name_by_id, created["list_id"], "Renamed") == ""  # the client's empty answer
    assert account(sandbox).lists.get(created["list_id"]).name == "Renamed"
    assert await call(lists.delete_list, created["list_id"]) == ""
    assert account(sandbox).lists.get(created["list_id"]) is None


async def test_members_and_subscriptions(lists, sandbox, after_jobs):
    vip = demo_list(sandbox, "VIP Customers")
    added = await call(lists.add_members_to_list, vip.id, [{"email": "legacy.member@example.com", "plan": "gold"}])
    assert [record["email"] for record in added] == ["legacy.member@example.com"]
    checked = await call(lists.get_members_from_list, vip.id, ["legacy.member@example.com", "nobody@example.com"])
    assert [record["id"] for record in checked] == [added[0]["id"]]
    subscribed = await call(lists.add_subscribers_to_list, vip.id, [{"email": "legacy.sub@example.com"}])
    assert [record["email"] for record in subscribed] == ["legacy.sub@example.com"]
    await after_jobs()  # the subscription job runs after its 202, as on Klaviyo
    assert [r["email"] for r in await call(lists.get_subscribers_from_list, vip.id, ["legacy.sub@example.com"])] == [
        "legacy.sub@example.com"
    ]
    assert await call(lists.delete_subscribers_from_list, vip.id, ["legacy.sub@example.com"]) == ""
    await after_jobs()
    assert await call(lists.get_subscribers_from_list, vip.id, ["legacy.sub@example.com"]) == []
    assert await call(lists.remove_members_from_list, vip.id, ["legacy.member@example.com"]) == ""
    assert await call(lists.get_members_from_list, vip.id, ["legacy.member@example.com"]) == []


async def test_double_opt_in_subscribe_answers_an_empty_list(lists, sandbox):
    newsletter = demo_list(sandbox, "Newsletter")
    assert await call(lists.add_subscribers_to_list, newsletter.id, [{"email": "legacy.doi@example.com"}]) == []


async def drain(reader, group_id: str) -> list[dict]:
    """Every record of a marker-paged reader, following markers as legacy clients do."""
    records, marker = [], None
    while True:
        batch = await call(reader, group_id, marker)
        records += batch["records"]
        marker = batch.get("marker")
        if marker is None:
            return records


async def test_bulk_readers_follow_markers(lists, sandbox):
    newsletter = demo_list(sandbox, "Newsletter")
    new_members(sandbox, newsletter, 1000)
    emails = [record["email"] for record in await drain(lists.get_all_members, newsletter.id)]
    assert len(emails) == len(set(emails)) == len(newsletter.members) > 1000
    reasons = [record["reason"] for record in await drain(lists.get_list_exclusions, newsletter.id)]
    assert reasons[:2] == ["Unsubscribed", "Unsubscribed"] and "Bounced" in reasons


async def test_segment_check_through_v1(lists, sandbox):
    pro = demo_segment(sandbox, "Pro plan")
    member = account(sandbox).profiles.get(pro.members.ordered()[0].profile_id)
    found = await call(lists.get_members_from_segment, pro.id, [member.email, "nobody@example.com"])
    assert [record["id"] for record in found] == [member.id]
