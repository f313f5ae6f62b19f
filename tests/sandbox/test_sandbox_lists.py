"""Lists: CRUD with opt_in_process and profile_count, members by relationship (ids only,
at most 1000), and the filtered, paged members listing."""

from __future__ import annotations

import pytest
from sandbox_helpers import profile_body

from proxy.sandbox import DEMO_PRIVATE_KEY, DEMO_PUBLIC_KEY, demo_sandbox
from proxy.sandbox.groups import Members, Membership

DAY = 86_400


def list_body(**attributes) -> dict:
    return {"data": {"type": "list", "attributes": attributes}}


def ids_body(*profile_ids: str) -> dict:
    return {"data": [{"type": "profile", "id": profile_id} for profile_id in profile_ids]}


async def create_list(api, name="Newsletter", **attributes) -> dict:
    answer = await api.post("/api/lists", list_body(name=name, **attributes))
    assert answer.status == 201, answer.json
    return answer.data


async def create_profiles(api, *emails: str) -> list[str]:
    ids = []
    for email in emails:
        answer = await api.post("/api/profiles", profile_body({"email": email}))
        assert answer.status == 201, answer.json
        ids.append(answer.data["id"])
    return ids


async def test_create_defaults_to_double_opt_in_and_reads_back(api, clock):
    created = await create_list(api)
    assert created["attributes"]["opt_in_process"] == "double_opt_in"
    assert created["attributes"]["created"] == created["attributes"]["updated"]
    assert set(created["relationships"]) == {"profiles", "tags", "flow-triggers"}
    single = await create_list(api, "VIP", opt_in_process="single_opt_in")
    read = await api.get(f"/api/lists/{single['id']}")
    assert (read.data["attributes"]["name"], read.data["attributes"]["opt_in_process"]) == ("VIP", "single_opt_in")
    assert "profile_count" not in read.data["attributes"]


async def test_a_blank_or_missing_name_is_refused(api):
    assert (await api.post("/api/lists", list_body(name="  "))).error["source"]["pointer"] == "/data/attributes/name"
    assert (await api.post("/api/lists", list_body())).status == 400


async def test_rename_and_delete(api, clock):
    created = await create_list(api)
    clock.advance(60)
    patch = {"data": {"type": "list", "id": created["id"], "attributes": {"name": "Weekly"}}}
    renamed = await api.patch(f"/api/lists/{created['id']}", patch)
    assert renamed.data["attributes"]["name"] == "Weekly"
    assert renamed.data["attributes"]["updated"] > created["attributes"]["updated"]
    mismatch = {"data": {"type": "list", "id": "other", "attributes": {"name": "x"}}}
    assert (await api.patch(f"/api/lists/{created['id']}", mismatch)).error["source"]["pointer"] == "/data/id"
    deleted = await api.request("DELETE", f"/api/lists/{created['id']}")
    assert (deleted.status, deleted.body) == (204, b"")
    assert (await api.get(f"/api/lists/{created['id']}")).error["code"] == "not_found"


async def test_listing_pages_ten_at_most_and_filters_by_name(api, clock):
    for index in range(12):
        await create_list(api, f"List {index:02}")
        clock.advance(1)  # creating lists has a burst of 10 a second
    items = await api.walk("/api/lists", {"sort": "name"})
    assert [item["attributes"]["name"] for item in items] == [f"List {i:02}" for i in range(12)]
    assert len((await api.get("/api/lists")).data) == 10
    assert (await api.get("/api/lists", {"page[size]": "11"})).status == 400
    found = await api.get("/api/lists", {"filter": 'any(name,["List 03","List 07"])'})
    assert sorted(item["attributes"]["name"] for item in found.data) == ["List 03", "List 07"]


async def test_members_are_added_by_id_idempotently_and_counted(api, clock):
    created = await create_list(api)
    ada, grace = await create_profiles(api, "ada@example.com", "grace@example.com")
    path = f"/api/lists/{created['id']}/relationships/profiles"
    assert (await api.post(path, ids_body(ada))).status == 204
    clock.advance(DAY)
    assert (await api.post(path, ids_body(ada, grace))).status == 204
    members = await api.get(f"/api/lists/{created['id']}/profiles")
    assert [m["id"] for m in members.data] == [ada, grace]  # ada kept her first joining time
    assert members.data[0]["attributes"]["joined_group_at"] < members.data[1]["attributes"]["joined_group_at"]
    counted = await api.get(f"/api/lists/{created['id']}", {"additional-fields[list]": "profile_count"})
    assert counted.data["attributes"]["profile_count"] == 2
    removed = await api.request("DELETE", path, body=ids_body(ada, "01UNKNOWNPROFILE0000000000"))
    assert removed.status == 400  # ids must name existing profiles
    assert (await api.request("DELETE", path, body=ids_body(ada))).status == 204
    assert [m["id"] for m in (await api.get(f"/api/lists/{created['id']}/profiles")).data] == [grace]


async def test_adding_an_unknown_profile_or_more_than_1000_is_refused(api, acme):
    created = await create_list(api)
    path = f"/api/lists/{created['id']}/relationships/profiles"
    unknown = await api.post(path, ids_body("01UNKNOWNPROFILE0000000000"))
    assert unknown.error["source"]["pointer"] == "/data/0/id"
    (ada,) = await create_profiles(api, "ada@example.com")
    too_many = await api.post(path, ids_body(*[ada] * 1001))
    assert too_many.status == 400
    assert len(acme.lists.get(created["id"]).members) == 0


async def test_members_filter_by_identifier_and_joining_time(api, clock):
    created = await create_list(api)
    ids = await create_profiles(api, "a@example.com", "B@example.com", "c@example.com")
    for profile_id in ids:
        await api.post(f"/api/lists/{created['id']}/relationships/profiles", ids_body(profile_id))
        clock.advance(DAY)
    path = f"/api/lists/{created['id']}/profiles"
    by_email = await api.get(path, {"filter": 'any(email,["b@example.com","c@example.com","x@example.com"])'})
    assert [m["id"] for m in by_email.data] == ids[1:]
    since = (await api.get(path)).data[1]["attributes"]["joined_group_at"]
    later = await api.get(path, {"filter": f"greater-or-equal(joined_group_at,{since})", "sort": "-joined_group_at"})
    assert [m["id"] for m in later.data] == [ids[2], ids[1]]
    assert (await api.get(path, {"filter": f'any(profile_id,["{ids[0]}"])'})).status == 400  # segments only


async def test_members_page_by_cursor_and_show_subscriptions_on_request(api, acme):
    created = await create_list(api)
    mailing_list = acme.lists.get(created["id"])
    ids = await create_profiles(api, *[f"p{i}@example.com" for i in range(5)])
    for index, profile_id in enumerate(ids):
        mailing_list.members.add(profile_id, 1000.0 + index)
    items = await api.walk(f"/api/lists/{created['id']}/profiles", {"page[size]": "2"})
    assert [item["id"] for item in items] == ids
    sparse = await api.get(
        f"/api/lists/{created['id']}/profiles",
        {"fields[profile]": "email,joined_group_at", "additional-fields[profile]": "subscriptions", "page[size]": "1"},
    )
    assert set(sparse.data[0]["attributes"]) == {"email", "joined_group_at"}
    full = await api.get(f"/api/lists/{created['id']}/profiles", {"additional-fields[profile]": "subscriptions"})
    assert full.data[0]["attributes"]["subscriptions"]["email"]["marketing"]["consent"] == "NEVER_SUBSCRIBED"


async def test_members_of_a_deleted_profile_are_not_listed(api, acme):
    created = await create_list(api)
    ada, grace = await create_profiles(api, "ada@example.com", "grace@example.com")
    await api.post(f"/api/lists/{created['id']}/relationships/profiles", ids_body(ada, grace))
    acme.profiles.remove(acme.profiles.get(ada))
    assert [m["id"] for m in (await api.get(f"/api/lists/{created['id']}/profiles")).data] == [grace]
    counted = await api.get(f"/api/lists/{created['id']}", {"additional-fields[list]": "profile_count"})
    assert counted.data["attributes"]["profile_count"] == 1


@pytest.mark.parametrize("path", ["/api/lists/nope", "/api/lists/nope/profiles"])
async def test_unknown_lists_are_404(api, path):
    assert (await api.get(path)).error["code"] == "not_found"


async def test_creating_lists_has_a_daily_cap(api, clock):
    for index in range(150):
        assert (await api.post("/api/lists", list_body(name=f"L{index}"))).status == 201
        clock.advance(1)
    throttled = await api.post("/api/lists", list_body(name="one too many"))
    assert throttled.status == 429
    assert int(throttled.headers["Retry-After"]) > 3600


def test_memberships_keep_joining_order_when_removed_and_re_added():
    members = Members()
    for profile_id, joined in (("c", 3.0), ("a", 1.0), ("b", 2.0)):
        assert members.add(profile_id, joined)
    assert not members.add("a", 9.0)
    assert [m.profile_id for m in members.ordered()] == ["a", "b", "c"]
    assert members.remove("b") and not members.remove("b")
    members.add("b", 4.0)
    assert list(members.ordered()) == [Membership("a", 1.0), Membership("c", 3.0), Membership("b", 4.0)]


async def test_the_demo_lists_and_their_members_read_back_on_spec(loaded_spec, clock, client_for):
    demo = client_for(demo_sandbox(spec=loaded_spec, clock=clock), DEMO_PRIVATE_KEY, DEMO_PUBLIC_KEY)
    lists = await demo.walk("/api/lists", {"sort": "name"})
    assert [(item["attributes"]["name"], item["attributes"]["opt_in_process"]) for item in lists] == [
        ("Newsletter", "double_opt_in"), ("VIP Customers", "single_opt_in"),
    ]  # fmt: skip
    members = await demo.walk(f"/api/lists/{lists[0]['id']}/profiles", {"additional-fields[profile]": "subscriptions"})
    marketing = [member["attributes"]["subscriptions"]["email"]["marketing"] for member in members]
    assert any(entry["suppression"] for entry in marketing)  # globally suppressed people stay on lists
    assert not any(entry["list_suppressions"] for entry in marketing)  # those who left it do not
