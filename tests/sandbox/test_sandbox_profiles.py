"""Profiles: create, import (upsert), update, client writes, and the filtered listing."""

from __future__ import annotations

import pytest
from sandbox_helpers import event_body, profile_body

from proxy.sandbox.store import Profile, PushToken


async def create(api, **attributes) -> dict:
    answer = await api.post("/api/profiles", profile_body(attributes))
    assert answer.status == 201, answer.json
    return answer.data


async def test_create_returns_the_full_profile(api, clock):
    data = await create(api, email="ada@example.com", first_name="Ada", location={"city": "London"})
    attributes = data["attributes"]
    assert len(data["id"]) == 26
    assert (attributes["email"], attributes["first_name"], attributes["last_name"]) == ("ada@example.com", "Ada", None)
    assert attributes["location"]["city"] == "London" and attributes["location"]["zip"] is None
    assert attributes["created"] == attributes["updated"] and attributes["created"].endswith("+00:00")
    assert "subscriptions" not in attributes
    assert set(data["relationships"]) == {"lists", "segments", "push-tokens", "conversations"}


async def test_emails_are_stored_trimmed_and_lower_cased(api):
    created = await create(api, email="  Grace.Hopper@Example.COM ")
    assert created["attributes"]["email"] == "grace.hopper@example.com"
    updated = await api.post("/api/profile-import", profile_body({"email": "GRACE.HOPPER@example.com", "title": "RADM"}))
    assert (updated.status, updated.data["id"]) == (200, created["id"])


async def test_create_refuses_an_identifier_another_profile_has(api):
    existing = await create(api, email="ada@example.com")
    answer = await api.post("/api/profiles", profile_body({"email": "ADA@example.com"}))
    assert answer.status == 409
    assert answer.error["code"] == "duplicate_profile"
    assert answer.error["meta"] == {"duplicate_profile_id": existing["id"]}


@pytest.mark.parametrize(
    ("attributes", "pointer"),
    [
        ({"first_name": "No identifier"}, "/data/attributes"),
        ({"email": "not-an-email"}, "/data/attributes/email"),
        ({"phone_number": "555-0100"}, "/data/attributes/phone_number"),
    ],
)
async def test_create_needs_a_valid_identifier(api, attributes, pointer):
    answer = await api.post("/api/profiles", profile_body(attributes))
    assert answer.status == 400
    assert answer.error["source"]["pointer"] == pointer


async def test_import_creates_then_updates(api, clock):
    created = await api.post("/api/profile-import", profile_body({"email": "ada@example.com", "title": "Countess"}))
    clock.advance(60)
    updated = await api.post("/api/profile-import", profile_body({"email": "ada@example.com", "organization": "AE"}))
    assert (created.status, updated.status) == (201, 200)
    assert updated.data["id"] == created.data["id"]
    assert (updated.data["attributes"]["title"], updated.data["attributes"]["organization"]) == ("Countess", "AE")
    assert updated.data["attributes"]["updated"] > created.data["attributes"]["updated"]


async def test_import_null_clears_and_omitted_stays(api, acme):
    await create(api, email="ada@example.com", first_name="Ada", last_name="Lovelace",
                 location={"city": "London", "country": "UK"}, properties={"plan": "gold", "pet": "cat"})
    answer = await api.post(
        "/api/profile-import",
        profile_body({"email": "ada@example.com", "first_name": None, "location": {"city": None}, "properties": {"plan": "pro"}}),
    )
    attributes = answer.data["attributes"]
    assert (attributes["first_name"], attributes["last_name"]) == (None, "Lovelace")
    assert (attributes["location"]["city"], attributes["location"]["country"]) == (None, "UK")
    assert attributes["properties"] == {"plan": "pro", "pet": "cat"}


async def test_patch_properties_append_unappend_and_unset(api):
    await create(api, email="ada@example.com", properties={"tags": ["a", "b"], "plan": "gold", "pet": "cat"})
    meta = {"patch_properties": {"append": {"tags": "c"}, "unappend": {"tags": "a"}, "unset": ["plan", "missing"]}}
    answer = await api.post("/api/profile-import", profile_body({"email": "ada@example.com"}, meta=meta))
    assert answer.data["attributes"]["properties"] == {"tags": ["b", "c"], "pet": "cat"}


async def test_import_refuses_identifiers_of_two_different_profiles(api):
    by_email = await create(api, email="ada@example.com")
    by_phone = await create(api, phone_number="+15005550006")
    answer = await api.post("/api/profile-import", profile_body({"email": "ada@example.com", "phone_number": "+15005550006"}))
    assert answer.status == 409
    assert answer.error["meta"]["duplicate_profile_id"] == by_phone["id"]
    assert by_email["id"] != by_phone["id"]


async def test_import_by_id_may_change_identifiers(api, acme):
    data = await create(api, email="old@example.com")
    answer = await api.post("/api/profile-import", profile_body({"email": "new@example.com"}, id=data["id"]))
    assert answer.status == 200
    assert acme.profiles.find("email", "new@example.com").id == data["id"]
    assert acme.profiles.find("email", "old@example.com") is None


async def test_update_patches_one_profile(api):
    data = await create(api, email="ada@example.com", first_name="Ada")
    answer = await api.patch(f"/api/profiles/{data['id']}", profile_body({"last_name": "Lovelace"}, id=data["id"]))
    assert answer.status == 200
    assert (answer.data["attributes"]["first_name"], answer.data["attributes"]["last_name"]) == ("Ada", "Lovelace")


async def test_update_needs_the_path_id_in_the_body(api):
    data = await create(api, email="ada@example.com")
    answer = await api.patch(f"/api/profiles/{data['id']}", profile_body({"title": "x"}, id="01HOTHER0000000000000000000"))
    assert answer.status == 400
    assert answer.error["source"]["pointer"] == "/data/id"


async def test_update_refuses_another_profiles_email(api):
    await create(api, email="taken@example.com")
    data = await create(api, email="ada@example.com")
    answer = await api.patch(f"/api/profiles/{data['id']}", profile_body({"email": "taken@example.com"}, id=data["id"]))
    assert answer.status == 409


async def test_update_of_an_unknown_profile_is_404(api):
    missing = "01HZZZZZZZZZZZZZZZZZZZZZZZ"
    answer = await api.patch(f"/api/profiles/{missing}", profile_body({"title": "x"}, id=missing))
    assert answer.status == 404


async def test_client_profiles_fill_in_but_never_change_identifiers(api, acme):
    await create(api, email="ada@example.com")
    body = profile_body({"email": "ada@example.com", "external_id": "ext-1", "first_name": "Ada"})
    assert (await api.post("/client/profiles", body)).status == 202
    body = profile_body({"email": "ada@example.com", "external_id": "ext-2"})
    assert (await api.post("/client/profiles", body)).status == 202
    (profile,) = acme.profiles
    assert (profile.external_id, profile.first_name) == ("ext-1", "Ada")


async def test_event_profiles_take_anonymous_ids_and_properties(api, acme):
    body = event_body(profile={"anonymous_id": "anon-1", "properties": {"source": "web"}})
    assert (await api.post("/api/events", body)).status == 202
    (profile,) = acme.profiles
    assert (profile.anonymous_id, profile.properties) == ("anon-1", {"source": "web"})


async def test_get_one_profile_with_subscriptions(api):
    data = await create(api, email="ada@example.com")
    answer = await api.get(f"/api/profiles/{data['id']}", {"additional-fields[profile]": "subscriptions"})
    marketing = answer.data["attributes"]["subscriptions"]["email"]["marketing"]
    assert (marketing["consent"], marketing["can_receive_email_marketing"]) == ("NEVER_SUBSCRIBED", False)


async def test_sparse_fields_reach_into_location(api):
    data = await create(api, email="ada@example.com", location={"city": "London", "zip": "N1"})
    answer = await api.get(f"/api/profiles/{data['id']}", {"fields[profile]": "email,location.city"})
    assert answer.data["attributes"] == {"email": "ada@example.com", "location": {"city": "London"}}


async def test_an_unknown_profile_is_404(api):
    assert (await api.get("/api/profiles/01HZZZZZZZZZZZZZZZZZZZZZZZ")).status == 404


@pytest.fixture
async def people(api, clock):
    """Five profiles created a minute apart; two share no email."""
    made = []
    for index, email in enumerate(["c@example.com", "a@example.com", None, "b@example.com", None]):
        identifiers = {"email": email} if email else {"external_id": f"ext-{index}"}
        made.append(await create(api, **identifiers, phone_number=f"+1500555000{index}"))
        clock.advance(60)
    return made


@pytest.mark.parametrize(
    ("sort", "order"),
    [
        ("id", [0, 1, 2, 3, 4]),
        ("-created", [4, 3, 2, 1, 0]),
        ("updated", [0, 1, 2, 3, 4]),
        ("email", [2, 4, 1, 3, 0]),
        ("-email", [0, 3, 1, 4, 2]),
    ],
)
async def test_sorted_cursor_walks(api, people, sort, order):
    walked = await api.walk("/api/profiles", {"sort": sort, "page[size]": "2"})
    assert [item["id"] for item in walked] == [people[i]["id"] for i in order]


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ('equals(email,"a@example.com")', [1]),
        ('equals(email,"A@example.com")', []),  # filters compare exactly with the stored (normalised) address
        ("any(email,['a@example.com','b@example.com','nobody@example.com'])", [1, 3]),
        ("equals(phone_number,'+15005550002')", [2]),
        ("equals(external_id,'ext-4')", [4]),
        ("any(id,['{id_0}','{id_3}'])", [0, 3]),
        ("greater-than(created,{created_1})", [2, 3, 4]),
        ("and(greater-than(updated,{created_0}),less-than(updated,{created_3}))", [1, 2]),
    ],
)
async def test_filters(api, people, expression, expected):
    values = {f"id_{i}": p["id"] for i, p in enumerate(people)}
    values |= {f"created_{i}": p["attributes"]["created"].replace("+00:00", "Z") for i, p in enumerate(people)}
    answer = await api.get("/api/profiles", {"filter": expression.format(**values)})
    assert [item["id"] for item in answer.data] == [people[i]["id"] for i in expected]


async def test_kx_filter(api, acme):
    await api.post("/api/profile-import", profile_body({"email": "ada@example.com", "_kx": "kx-token"}))
    answer = await api.get("/api/profiles", {"filter": "equals(_kx,'kx-token')"})
    assert [item["attributes"]["email"] for item in answer.data] == ["ada@example.com"]


async def test_profiles_page_size_is_bounded(api, people):
    assert len((await api.get("/api/profiles", {"page[size]": "100"})).data) == 5
    assert (await api.get("/api/profiles", {"page[size]": "101"})).status == 400


async def test_profiles_include_their_push_tokens(api, acme, clock):
    profile = Profile("01TOKENED", clock.now, clock.now, email="app@example.com")
    profile.push_tokens.append(PushToken("01PUSH1", "tok-1", "android", "FCM", clock.now))
    acme.profiles.add(profile)
    answer = await api.get("/api/profiles", {"filter": 'equals(id,"01TOKENED")', "include": "push-tokens"})
    assert answer.status == 200
    (data,) = answer.data
    assert data["relationships"]["push-tokens"]["data"] == [{"type": "push-token", "id": "01PUSH1"}]
    (token,) = answer.json["included"]
    assert (token["type"], token["attributes"]["token"], token["attributes"]["platform"]) == ("push-token", "tok-1", "android")
