"""The marker-paged bulk readers: members/all for lists and segments, and list exclusions."""

from __future__ import annotations

import re

import pytest
from list_helpers import NOT_FOUND, account, demo_list, demo_segment, new_members, v2

from proxy.sandbox.groups import MailingList
from proxy.sandbox.seed import DEMO_PRIVATE_KEY
from proxy.sandbox.store import Consent

ISO_Z = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
BIG = 1_050  # two batches: 1000 members, then 50


def add_list(sandbox, size: int) -> MailingList:
    """A new list of `size` new members, joined one second apart."""
    mailing_list = MailingList(f"Big{size}", "Big", 0.0, 0.0)
    account(sandbox).lists.add(mailing_list)
    new_members(sandbox, mailing_list, size)
    return mailing_list


@pytest.fixture
def big_list(sandbox) -> MailingList:
    return add_list(sandbox, BIG)


async def batch(proxy, path: str, marker: int | None = None) -> dict:
    response = await v2(proxy, "GET", path, {"marker": marker} if marker else None)
    assert response.status == 200, await response.text()
    return await response.json()


async def test_a_small_list_is_one_batch_without_a_marker(proxy, sandbox):
    vip = demo_list(sandbox, "VIP Customers")
    body = await batch(proxy, f"/api/v2/group/{vip.id}/members/all")
    assert list(body) == ["records"]
    profiles = account(sandbox).profiles
    expected = [profiles.get(m.profile_id) for m in vip.members.ordered()]
    assert [record["id"] for record in body["records"]] == [p.id for p in expected]  # in joining order
    for record, profile in zip(body["records"], expected):
        phone = {"phone_number": profile.phone_number} if profile.phone_number else {}
        push = {"push_token": profile.push_tokens[0].token} if profile.push_tokens else {}
        assert record == {"id": profile.id, "email": profile.email, **phone, **push}


async def test_members_carry_their_push_token(proxy, sandbox):
    vip = demo_list(sandbox, "VIP Customers")
    profiles = account(sandbox).profiles
    with_token = next(p for p in profiles if p.push_tokens)
    if with_token.id not in vip.members:
        vip.members.add(with_token.id, 1.0)
    body = await batch(proxy, f"/api/v2/group/{vip.id}/members/all")
    (record,) = [r for r in body["records"] if r["id"] == with_token.id]
    assert record["push_token"] == with_token.push_tokens[0].token
    assert all("push_token" not in r for r in body["records"] if r["id"] != with_token.id)


async def test_markers_resume_exactly_where_each_batch_ended(proxy, sandbox, big_list, contract):
    path = f"/api/v2/group/{big_list.id}/members/all"
    first = await batch(proxy, path)
    assert list(first) == ["marker", "records"] and isinstance(first["marker"], int)
    second = await batch(proxy, path, first["marker"])
    assert [len(b["records"]) for b in (first, second)] == [1000, BIG - 1000]
    assert "marker" not in second
    emails = [record["email"] for b in (first, second) for record in b["records"]]
    profiles = account(sandbox).profiles
    assert emails == [profiles.get(m.profile_id).email for m in big_list.members.ordered()]  # joining order
    pages = [r for r in contract.requests if r.path.endswith("/profiles") and r.path != "/api/profiles"]
    assert len(pages) == 11 and all(dict(r.query)["page[size]"] == "100" for r in pages)
    assert sum(1 for r in contract.requests if r.path == "/api/profiles") == 11  # one push-token read a page


async def test_a_retried_marker_gives_the_same_batch(proxy, big_list):
    path = f"/api/v2/group/{big_list.id}/members/all"
    marker = (await batch(proxy, path))["marker"]
    tried = await batch(proxy, path, marker)
    assert len(tried["records"]) == 50
    assert await batch(proxy, path, marker) == tried


async def test_a_segment_is_probed_once_then_remembered(proxy, sandbox, contract):
    pro = demo_segment(sandbox, "Pro plan")
    path = f"/api/v2/group/{pro.id}/members/all"
    body = await batch(proxy, path)
    assert len(body["records"]) == len(pro.members)
    probed = [f"/api/lists/{pro.id}", f"/api/segments/{pro.id}", f"/api/segments/{pro.id}/profiles", "/api/profiles"]
    assert [r.path for r in contract.requests] == probed
    contract.requests.clear()
    assert await batch(proxy, path) == body
    assert [r.path for r in contract.requests] == [f"/api/segments/{pro.id}/profiles", "/api/profiles"]


async def test_an_empty_group_and_an_unknown_one(proxy, sandbox):
    account(sandbox).lists.add(MailingList("Empty1", "Empty", 0.0, 0.0))
    assert await batch(proxy, "/api/v2/group/Empty1/members/all") == {"records": []}
    unknown = await v2(proxy, "GET", "/api/v2/group/NoSuch/members/all")
    assert (unknown.status, await unknown.json()) == (404, NOT_FOUND)


@pytest.mark.parametrize(
    ("marker", "detail"),
    [
        ("many", "Invalid value for marker: must be an integer."),
        ("0", "Invalid value for marker: must be at least 1."),
        ("12345", "Invalid value for marker: it is unknown or has expired; start again without one."),
    ],
)
async def test_bad_markers_are_a_v2_400(proxy, big_list, contract, marker, detail):
    response = await v2(proxy, "GET", f"/api/v2/group/{big_list.id}/members/all", {"marker": marker})
    assert (response.status, await response.json()) == (400, {"detail": detail})
    assert contract.requests == []


async def test_a_marker_only_resumes_its_own_walk(proxy, sandbox, big_list):
    marker = (await batch(proxy, f"/api/v2/group/{big_list.id}/members/all"))["marker"]
    newsletter = demo_list(sandbox, "Newsletter")
    for path in (f"/api/v2/group/{newsletter.id}/members/all", f"/api/v2/list/{big_list.id}/exclusions/all"):
        response = await v2(proxy, "GET", path, {"marker": marker})
        assert response.status == 400, path


async def test_exclusions_are_leavers_then_unmailable_members(proxy, sandbox, contract):
    newsletter = demo_list(sandbox, "Newsletter")
    profiles = account(sandbox).profiles
    texter = next(p for p in profiles if p.phone_number and p.id in newsletter.members and not p.subscriptions.email_suppressions)
    texter.subscriptions.sms_marketing = Consent("UNSUBSCRIBED", 1_700_000_000.0, "SMS")
    body = await batch(proxy, f"/api/v2/list/{newsletter.id}/exclusions/all")
    records = {record["id"]: record for record in body["records"]}
    leavers = [p for p in profiles if any(s.list_id == newsletter.id for s in p.subscriptions.email_list_suppressions)]
    suppressed = [p for p in profiles if p.subscriptions.email_suppressions and p.id in newsletter.members]
    assert len(leavers) == 2 and suppressed
    assert list(records) == [p.id for p in leavers] + [r["id"] for r in body["records"][2:]]
    assert set(records) == {p.id for p in leavers + suppressed} | {texter.id}
    for leaver in leavers:
        assert list(records[leaver.id]) == ["id", "email", "reason", "created"]
        assert records[leaver.id]["reason"] == "Unsubscribed" and ISO_Z.fullmatch(records[leaver.id]["created"])
    bounced = next(p for p in suppressed if p.subscriptions.email_suppressions[0].reason == "HARD_BOUNCE")
    assert records[bounced.id]["reason"] == "Bounced"
    assert {record.get("reason") for record in records.values()} <= {
        "Unsubscribed", "Bounced", "Invalid Email", "Reported Spam", "Manually Excluded", None,
    }
    assert records[texter.id] == {
        "id": texter.id, "email": texter.email, "phone_number": texter.phone_number, "phone_reason": "Unsubscribed",
    }  # fmt: skip
    assert [r.path for r in contract.requests] == ["/api/profiles", f"/api/lists/{newsletter.id}/profiles"]


async def test_exclusions_of_an_unknown_list_are_a_404(proxy):
    response = await v2(proxy, "GET", "/api/v2/list/NoSuch/exclusions/all")
    assert (response.status, await response.json()) == (404, NOT_FOUND)


async def test_exclusions_page_by_marker_across_both_sources(proxy, sandbox):
    big = add_list(sandbox, 950)
    profiles = account(sandbox).profiles
    for membership in big.members.ordered()[::2]:  # every other member bounced
        profiles.get(membership.profile_id).subscriptions.suppress_email("HARD_BOUNCE", 1_700_000_000.0)
    path = f"/api/v2/list/{big.id}/exclusions/all"
    first = await batch(proxy, path)
    second = await batch(proxy, path, first["marker"])
    # Ten upstream pages a batch: the leavers' one page and nine of members, then one.
    assert [len(b["records"]) for b in (first, second)] == [450, 25]
    assert "marker" not in second
    assert {record["reason"] for b in (first, second) for record in b["records"]} == {"Bounced"}


async def test_what_explain_learns_about_a_group_stays_in_its_dry_run(proxy, sandbox, contract):
    # Explain's dry-run answers say every id is a list; the real store must not learn that.
    pro = demo_segment(sandbox, "Pro plan")
    path = f"/api/v2/group/{pro.id}/members/all"
    explained = await proxy.post("/__proxy/explain", json={"request": f"GET {path}?api_key={DEMO_PRIVATE_KEY}"})
    assert explained.status == 200
    assert contract.requests == []
    body = await batch(proxy, path)
    assert len(body["records"]) == len(pro.members)
    assert [r.path for r in contract.requests][:2] == [f"/api/lists/{pro.id}", f"/api/segments/{pro.id}"]
