"""List members without consent: add (resolve or create, then relationships), remove, and
the membership checks in every wire form, through the sandbox."""

from __future__ import annotations

import json
import re

import pytest
from list_helpers import (
    NOT_FOUND,
    PRIVATE_KEY,
    account,
    assert_empty_200,
    demo_list,
    demo_segment,
    v2,
)

from proxy.sandbox.store import Profile

ISO_Z = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
GRACE = "grace.hopper@example.com"


def emails_of(sandbox, group) -> set[str]:
    profiles = account(sandbox).profiles
    return {profiles.get(m.profile_id).email for m in group.members.ordered()}


def filters_sent(contract, path_end: str) -> list[str]:
    return [dict(r.query)["filter"] for r in contract.requests if r.method == "GET" and r.path.endswith(path_end)]


async def test_add_finds_existing_profiles_creates_new_ones_and_answers_their_records(proxy, sandbox, contract):
    vip = demo_list(sandbox, "VIP Customers")
    profiles = account(sandbox).profiles
    ada = profiles.find("email", "ada.lovelace@example.com")
    before = len(profiles)
    payload = {"profiles": [
        {"email": "Ada.Lovelace@example.com"},
        {"$email": "new.member@example.com", "$first_name": "New", "plan": "gold"},
        {"phone_number": "+15005550006"},
    ]}
    response = await v2(proxy, "POST", f"/api/v2/list/{vip.id}/members", payload)
    assert response.status == 200
    body = await response.json()
    created = profiles.find("email", "new.member@example.com")
    phone_only = profiles.find("phone_number", "+15005550006")
    assert body == [
        {"id": ada.id, "email": ada.email, "phone_number": ada.phone_number},
        {"id": created.id, "email": "new.member@example.com"},
        {"id": phone_only.id, "phone_number": "+15005550006"},
    ]
    assert len(profiles) == before + 2
    assert (created.first_name, created.properties) == ("New", {"plan": "gold"})
    assert {ada.id, created.id, phone_only.id} <= set(m.profile_id for m in vip.members.ordered())
    assert ada.subscriptions.email_marketing.state == "SUBSCRIBED"  # membership never touches consent
    operations = [(r.method, r.path) for r in contract.requests]
    assert operations.count(("POST", "/api/profile-import")) == 2  # the new one and the one with properties
    assert operations[-1] == ("POST", f"/api/lists/{vip.id}/relationships/profiles")


async def test_adding_again_creates_no_duplicate(proxy, sandbox):
    vip = demo_list(sandbox, "VIP Customers")
    payload = {"profiles": [{"email": "twice@example.com", "plan": "gold"}, {"email": "once.more@example.com"}]}
    first = await (await v2(proxy, "POST", f"/api/v2/list/{vip.id}/members", payload)).json()
    profiles, members = len(account(sandbox).profiles), len(vip.members)
    again = await (await v2(proxy, "POST", f"/api/v2/list/{vip.id}/members", payload)).json()
    assert again == first
    assert (len(account(sandbox).profiles), len(vip.members)) == (profiles, members)


async def test_existing_profiles_are_looked_up_a_hundred_at_a_time(proxy, sandbox, contract):
    vip = demo_list(sandbox, "VIP Customers")
    emails = [f"batch{i:03}@example.com" for i in range(150)]
    for index, email in enumerate(emails):
        account(sandbox).profiles.add(Profile(f"01BATCH{index:019}", 0.0, 0.0, email=email))
    response = await v2(proxy, "POST", f"/api/v2/list/{vip.id}/members", {"profiles": [{"email": e} for e in emails]})
    assert [record["email"] for record in await response.json()] == emails
    lookups = filters_sent(contract, "/api/profiles")
    assert [len(f.split('","')) for f in lookups] == [100, 50] and lookups[0].startswith("any(email,[")
    assert not any(r.path == "/api/profile-import" for r in contract.requests)


@pytest.mark.parametrize(
    ("payload", "detail"),
    [
        ({}, "profiles is required: a list of objects with an email or phone_number."),
        ({"profiles": [{"push_token": "abc"}]}, "profiles[0] needs an email, phone_number or $id."),
        ({"profiles": "not json"}, "profiles is not valid JSON."),
        ({"profiles": [1, 2]}, "profiles must be a list of objects."),
    ],
)
async def test_bad_profiles_are_a_v2_400_before_any_call(proxy, sandbox, contract, payload, detail):
    vip = demo_list(sandbox, "VIP Customers")
    response = await v2(proxy, "POST", f"/api/v2/list/{vip.id}/members", payload)
    assert (response.status, await response.json()) == (400, {"detail": detail})
    assert contract.requests == []


async def test_a_single_profile_object_is_accepted(proxy, sandbox):
    vip = demo_list(sandbox, "VIP Customers")
    response = await v2(proxy, "POST", f"/api/v2/list/{vip.id}/members", {"profiles": {"email": "magento@example.com"}})
    assert [record["email"] for record in await response.json()] == ["magento@example.com"]


async def test_adding_to_an_unknown_list_creates_nobody(proxy, sandbox, contract):
    before = len(account(sandbox).profiles)
    response = await v2(proxy, "POST", "/api/v2/list/NoSuch/members", {"profiles": [{"email": "ghost@example.com"}]})
    assert (response.status, await response.json()) == (404, NOT_FOUND)
    assert len(account(sandbox).profiles) == before
    assert [r.path for r in contract.requests] == ["/api/lists/NoSuch"]


async def test_remove_takes_members_off_by_query_or_body(proxy, sandbox, contract):
    newsletter = demo_list(sandbox, "Newsletter")
    gone = ["ada.lovelace@example.com", "grace.hopper@example.com"]
    response = await proxy.delete(
        f"/api/v2/list/{newsletter.id}/members", params={"api_key": PRIVATE_KEY, "emails": ",".join(gone)}
    )
    await assert_empty_200(response)
    assert not set(gone) & emails_of(sandbox, newsletter)
    payload = {"emails": ["alan.turing@example.com", "stranger@example.com"]}
    await assert_empty_200(await v2(proxy, "DELETE", f"/api/v2/list/{newsletter.id}/members", payload))
    assert "alan.turing@example.com" not in emails_of(sandbox, newsletter)
    removals = [json.loads(r.body) for r in contract.requests if r.method == "DELETE"]
    assert [len(body["data"]) for body in removals] == [2, 1]  # only members are removed


async def test_removal_lookups_run_in_batches_of_a_hundred(proxy, sandbox, contract):
    newsletter = demo_list(sandbox, "Newsletter")
    emails = [f"nobody{i}@example.com" for i in range(250)]
    await assert_empty_200(await v2(proxy, "DELETE", f"/api/v2/list/{newsletter.id}/members", {"emails": emails}))
    assert [len(f.split('","')) for f in filters_sent(contract, "/profiles")] == [100, 100, 50]
    assert all(r.method == "GET" for r in contract.requests)  # nobody matched: nothing to remove


async def test_check_answers_members_with_when_they_joined(proxy, sandbox):
    newsletter = demo_list(sandbox, "Newsletter")
    profiles = account(sandbox).profiles
    ada = profiles.find("email", "ada.lovelace@example.com")
    payload = {"emails": ["ADA.LOVELACE@example.com", "claude.shannon@example.com", "stranger@example.com"]}
    response = await v2(proxy, "GET", f"/api/v2/list/{newsletter.id}/members", payload)
    body = await response.json()
    (record,) = body  # claude left the newsletter; the stranger is unknown
    assert list(record) == ["created", "id", "email", "phone_number"]
    assert (record["id"], record["email"], record["phone_number"]) == (ada.id, ada.email, ada.phone_number)
    assert ISO_Z.fullmatch(record["created"])


@pytest.mark.parametrize(
    "request_form",
    [
        {"method": "POST", "path": "get-members", "json": {"api_key": PRIVATE_KEY, "emails": [GRACE]}},
        {"method": "GET", "path": "members", "params": {"api_key": PRIVATE_KEY, "emails": GRACE}},
        {"method": "GET", "path": "members", "params": [("api_key", PRIVATE_KEY), ("emails", GRACE)]},
        {"method": "GET", "path": "members", "json": {"api_key": PRIVATE_KEY, "profiles": [{"$email": GRACE}]}},
    ],
    ids=["post-get-members", "query", "repeated-query", "profiles-objects"],
)
async def test_every_check_form_gives_the_same_answer(proxy, sandbox, request_form):
    newsletter = demo_list(sandbox, "Newsletter")
    form = dict(request_form)
    response = await proxy.request(form.pop("method"), f"/api/v2/list/{newsletter.id}/{form.pop('path')}", **form)
    assert [record["email"] for record in await response.json()] == [GRACE]


async def test_check_by_phone_and_push_token(proxy, sandbox, contract):
    newsletter = demo_list(sandbox, "Newsletter")
    phoned = next(p for p in account(sandbox).profiles if p.phone_number and p.id in newsletter.members)
    payload = {"phone_numbers": [phoned.phone_number], "push_tokens": ["token-1"]}
    body = await (await v2(proxy, "GET", f"/api/v2/list/{newsletter.id}/members", payload)).json()
    assert [record["id"] for record in body] == [phoned.id]
    assert sorted(f.split("(")[1].split(",")[0] for f in filters_sent(contract, "/profiles")) == ["phone_number", "push_token"]


async def test_checking_more_than_a_hundred_is_a_v2_400(proxy, sandbox, contract):
    newsletter = demo_list(sandbox, "Newsletter")
    emails = [f"p{i}@example.com" for i in range(101)]
    response = await v2(proxy, "POST", f"/api/v2/list/{newsletter.id}/get-members", {"emails": emails})
    assert (response.status, await response.json()) == (400, {"detail": "At most 100 emails can be checked at a time."})
    nothing = await v2(proxy, "POST", f"/api/v2/list/{newsletter.id}/get-members", {"emails": []})
    assert nothing.status == 400
    assert contract.requests == []


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_segment_checks(proxy, sandbox, method):
    pro = demo_segment(sandbox, "Pro plan")
    member = account(sandbox).profiles.get(pro.members.ordered()[0].profile_id)
    path = f"/api/v2/segment/{pro.id}/{'members' if method == 'GET' else 'get-members'}"
    body = await (await v2(proxy, method, path, {"emails": [member.email, "stranger@example.com"]})).json()
    assert [record["id"] for record in body] == [member.id]
    unknown = await v2(proxy, method, path.replace(pro.id, "NoSuch"), {"emails": [member.email]})
    assert (unknown.status, await unknown.json()) == (404, NOT_FOUND)


async def test_v1_segment_check_takes_comma_separated_emails(proxy, sandbox, contract):
    pro = demo_segment(sandbox, "Pro plan")
    members = [account(sandbox).profiles.get(m.profile_id) for m in pro.members.ordered()[:2]]
    query = {"api_key": PRIVATE_KEY, "email": ",".join([members[0].email, "stranger@example.com", members[1].email])}
    response = await proxy.get(f"/api/v1/segment/{pro.id}/members", params=query)
    assert response.status == 200
    assert {record["id"] for record in await response.json()} == {m.id for m in members}
    (lookup,) = contract.requests
    assert dict(lookup.query)["filter"] == f'any(email,["{members[0].email}","stranger@example.com","{members[1].email}"])'



async def test_v1_segment_errors_speak_v1(proxy):
    unknown = await proxy.get("/api/v1/segment/NoSuch/members", params={"api_key": PRIVATE_KEY, "email": "a@b.co"})
    assert (unknown.status, await unknown.json()) == (404, {"status": 404, "message": "The requested resource does not exist."})
    missing = await proxy.get("/api/v1/segment/NoSuch/members", params={"api_key": PRIVATE_KEY})
    assert (await missing.json())["status"] == 400


async def test_copying_members_from_list_to_list_keeps_everyones_external_id(proxy, sandbox):
    """members/all records carry `id` = the Klaviyo profile id; sent back in `profiles`, it
    must not become anyone's `$id` (issue 11 item 1)."""
    vip = demo_list(sandbox, "VIP Customers")
    copy_to = demo_list(sandbox, "Newsletter")
    profiles = account(sandbox).profiles
    ada = profiles.find("email", "ada.lovelace@example.com")
    profiles.set_identifier(ada, "external_id", "crm-ada")
    profiles_before = len(profiles)
    records = (await (await v2(proxy, "GET", f"/api/v2/group/{vip.id}/members/all")).json())["records"]
    assert any(record["id"] == ada.id for record in records)
    response = await v2(proxy, "POST", f"/api/v2/list/{copy_to.id}/members", {"profiles": records})
    assert response.status == 200
    assert ada.external_id == "crm-ada" and "id" not in ada.properties
    assert len(profiles) == profiles_before
    assert all(profiles.get(record["id"]).external_id != record["id"] for record in records)


async def test_a_bare_id_that_is_not_the_profiles_own_stays_a_custom_property(proxy, sandbox):
    newsletter = demo_list(sandbox, "Newsletter")
    payload = {"profiles": [{"email": "from.elsewhere@example.com", "id": "01HFROMANOTHERACCOUNT"}]}
    assert (await v2(proxy, "POST", f"/api/v2/list/{newsletter.id}/members", payload)).status == 200
    created = account(sandbox).profiles.find("email", "from.elsewhere@example.com")
    assert created.external_id is None and created.properties == {"id": "01HFROMANOTHERACCOUNT"}


async def test_entries_about_one_person_are_merged_in_order(proxy, sandbox, contract):
    """Same email in any case: every entry's properties are written, later values win
    (issue 11 item 2)."""
    newsletter = demo_list(sandbox, "Newsletter")
    payload = {"profiles": [
        {"email": "Twin@Example.com", "plan": "gold", "$first_name": "Tess"},
        {"email": "other@example.com"},
        {"email": "twin@example.COM ", "plan": "silver", "$city": "Leeds"},
    ]}
    response = await v2(proxy, "POST", f"/api/v2/list/{newsletter.id}/members", payload)
    twin = account(sandbox).profiles.find("email", "twin@example.com")
    assert await response.json() == [
        {"id": twin.id, "email": "twin@example.com"},
        {"id": account(sandbox).profiles.find("email", "other@example.com").id, "email": "other@example.com"},
    ]
    assert (twin.first_name, twin.properties, twin.location["city"]) == ("Tess", {"plan": "silver"}, "Leeds")
    imports = [r for r in contract.requests if r.path == "/api/profile-import"]
    assert len(imports) == 2  # one write per person
