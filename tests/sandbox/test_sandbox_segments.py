"""Segments: read-only, with the membership their definition gave them."""

from __future__ import annotations

import pytest


@pytest.fixture
def pro_plan(seeded):
    (account,) = seeded.accounts
    return next(segment for segment in account.segments if segment.name == "Pro plan")


async def test_segments_list_with_their_definition(demo):
    answer = await demo.get("/api/segments", {"sort": "name"})
    assert [item["attributes"]["name"] for item in answer.data] == ["Outdoor fans", "Pro plan"]
    (condition,) = answer.data[1]["attributes"]["definition"]["condition_groups"][0]["conditions"]
    assert condition["filter"] == {"type": "string", "operator": "equals", "value": "pro"}
    assert (answer.data[1]["attributes"]["is_active"], answer.data[1]["attributes"]["is_processing"]) == (True, False)


async def test_one_segment_with_its_profile_count(demo, pro_plan):
    answer = await demo.get(f"/api/segments/{pro_plan.id}", {"additional-fields[segment]": "profile_count"})
    assert answer.data["attributes"]["profile_count"] == len(pro_plan.members) > 0
    assert (await demo.get("/api/segments/nope")).error["code"] == "not_found"


async def test_members_follow_the_definition_and_filter_by_profile_id(demo, pro_plan):
    members = await demo.walk(f"/api/segments/{pro_plan.id}/profiles", {"page[size]": "3"})
    assert len(members) == len(pro_plan.members)
    assert {member["attributes"]["properties"]["plan"] for member in members} == {"pro"}
    first, second = members[0]["id"], members[1]["id"]
    picked = await demo.get(f"/api/segments/{pro_plan.id}/profiles", {"filter": f'any(profile_id,["{second}","{first}"])'})
    assert [member["id"] for member in picked.data] == [first, second]
    email = members[2]["attributes"]["email"]
    assert len((await demo.get(f"/api/segments/{pro_plan.id}/profiles", {"filter": f'equals(email,["{email}"])'})).data) == 1
    # Stored addresses are normalised; a filter compares exactly (see proxy.sandbox.identity).
    assert (await demo.get(f"/api/segments/{pro_plan.id}/profiles", {"filter": f'equals(email,["{email.upper()}"])'})).data == []


async def test_segments_cannot_be_written(demo, pro_plan):
    answer = await demo.request("DELETE", f"/api/segments/{pro_plan.id}")
    assert answer.status == 405
