"""v2 list CRUD and the v1 listing of lists and segments, through the sandbox."""

from __future__ import annotations

import re

import pytest
from list_helpers import (
    NOT_FOUND,
    PRIVATE_KEY,
    account,
    assert_empty_200,
    demo_list,
    v2,
)

from proxy.sandbox.groups import MailingList

ISO_Z = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
V1_TIME = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")
V1_LIST_KEYS = ["object", "id", "name", "list_type", "folder", "created", "updated", "person_count"]


async def test_all_lists_are_a_bare_array_across_every_page(proxy, sandbox, contract):
    store = account(sandbox).lists
    for index in range(12):  # 14 lists with the demo's two: two pages of ten
        store.add(MailingList(f"Extra{index:02}", f"Extra {index}", 1_000 + index, 1_000 + index))
    response = await v2(proxy, "GET", "/api/v2/lists")
    assert response.status == 200
    body = await response.json()
    assert all(list(item) == ["list_id", "list_name"] for item in body)
    assert {item["list_id"] for item in body} == {group.id for group in store}
    assert body[:2] == [{"list_id": f"Extra0{i}", "list_name": f"Extra {i}"} for i in range(2)]  # oldest first
    assert [r.path for r in contract.requests] == ["/api/lists", "/api/lists"]  # ten a page


@pytest.mark.parametrize("form", [False, True])
async def test_create_takes_list_name_from_json_or_form(proxy, sandbox, form):
    if form:  # the generated SDKs: key in the query, name as a form field
        response = await proxy.post("/api/v2/lists", params={"api_key": PRIVATE_KEY}, data={"list_name": "Form made"})
    else:
        response = await v2(proxy, "POST", "/api/v2/lists", {"list_name": "Form made"})
    assert response.status == 200
    body = await response.json()
    assert list(body) == ["list_id"]
    created = account(sandbox).lists.get(body["list_id"])
    assert (created.name, created.opt_in_process) == ("Form made", "double_opt_in")


async def test_create_without_a_name_is_a_v2_400(proxy, contract):
    response = await v2(proxy, "POST", "/api/v2/lists", {})
    assert response.status == 400
    assert await response.json() == {"detail": "Missing required parameter: list_name."}
    assert contract.requests == []


async def test_one_list_has_no_id_and_iso_z_times(proxy, sandbox):
    newsletter = demo_list(sandbox, "Newsletter")
    body = await (await v2(proxy, "GET", f"/api/v2/list/{newsletter.id}")).json()
    assert list(body) == ["list_name", "folder_name", "created", "updated"]
    assert (body["list_name"], body["folder_name"]) == ("Newsletter", "")
    assert ISO_Z.fullmatch(body["created"]) and ISO_Z.fullmatch(body["updated"])


async def test_an_unknown_list_is_a_v2_404(proxy):
    response = await v2(proxy, "GET", "/api/v2/list/NoSuch")
    assert (response.status, await response.json()) == (404, NOT_FOUND)


@pytest.mark.parametrize("form", [False, True])
async def test_rename_answers_an_empty_200(proxy, sandbox, contract, form):
    newsletter = demo_list(sandbox, "Newsletter")
    if form:
        response = await proxy.put(f"/api/v2/list/{newsletter.id}", params={"api_key": PRIVATE_KEY}, data={"list_name": "Weekly"})
    else:
        response = await v2(proxy, "PUT", f"/api/v2/list/{newsletter.id}", {"list_name": "Weekly"})
    await assert_empty_200(response)
    assert newsletter.name == "Weekly"
    (patch,) = contract.requests
    assert (patch.method, patch.path) == ("PATCH", f"/api/lists/{newsletter.id}")


async def test_delete_answers_an_empty_200(proxy, sandbox):
    vip = demo_list(sandbox, "VIP Customers")
    await assert_empty_200(await v2(proxy, "DELETE", f"/api/v2/list/{vip.id}"))
    assert account(sandbox).lists.get(vip.id) is None
    again = await v2(proxy, "DELETE", f"/api/v2/list/{vip.id}")
    assert (again.status, await again.json()) == (404, NOT_FOUND)


async def test_v1_listing_merges_lists_and_segments_oldest_first(proxy, sandbox):
    response = await proxy.get("/api/v1/lists", params={"api_key": PRIVATE_KEY})
    body = await response.json()
    assert list(body) == ["end", "object", "page_size", "start", "total", "data", "page"]
    demo = account(sandbox)
    assert body["total"] == len(demo.lists) + len(demo.segments) == body["page_size"] == 4
    assert all(list(item) == V1_LIST_KEYS for item in body["data"])
    kinds = {item["name"]: item["list_type"] for item in body["data"]}
    assert kinds == {"Newsletter": "list", "VIP Customers": "list", "Pro plan": "segment", "Outdoor fans": "segment"}
    assert [item["created"] for item in body["data"]] == sorted(item["created"] for item in body["data"])
    assert all(V1_TIME.fullmatch(item["created"]) and item["folder"] is None for item in body["data"])
    assert all(type(item["person_count"]) is int for item in body["data"]), "legacy readers sum person_count"


async def test_v1_listing_pages_like_every_v1_listing(proxy):
    body = await (await proxy.get("/api/v1/lists", params={"api_key": PRIVATE_KEY, "page": "1", "count": "3"})).json()
    assert (body["start"], body["end"], body["page_size"], body["total"], body["page"]) == (3, 3, 1, 4, 1)
    missing_key = await proxy.get("/api/v1/lists")
    assert (missing_key.status, (await missing_key.json())["status"]) == (403, 403)
