"""Data-privacy deletion jobs: one identifier, the profile and its events forgotten."""

from __future__ import annotations

import pytest
from sandbox_helpers import event_body, profile_body

DELETIONS = "/api/data-privacy-deletion-jobs"


def deletion(profile_id: str | None = None, **attributes) -> dict:
    profile = {"type": "profile", "attributes": attributes, **({"id": profile_id} if profile_id else {})}
    return {"data": {"type": "data-privacy-deletion-job", "attributes": {"profile": {"data": profile}}}}


@pytest.fixture
async def ada(api, acme) -> str:
    answer = await api.post("/api/profiles", profile_body({"email": "ada@example.com", "phone_number": "+15005550006"}))
    assert (await api.post("/api/events", event_body(email="ada@example.com"))).status == 202
    assert (await api.post("/api/events", event_body(email="grace@example.com"))).status == 202
    return answer.data["id"]


@pytest.mark.parametrize(
    "identifier", [{"email": "ADA@example.com"}, {"phone_number": "+15005550006"}, {"profile_id": "ada"}]
)
async def test_a_deletion_forgets_the_profile_and_its_events(api, acme, ada, identifier):
    body = deletion(ada) if "profile_id" in identifier else deletion(**identifier)
    answer = await api.post(DELETIONS, body)
    assert (answer.status, answer.body) == (202, b"")
    assert (await api.get(f"/api/profiles/{ada}")).status == 404
    assert acme.profiles.find("email", "ada@example.com") is None
    assert (await api.get("/api/events", {"filter": f'equals(profile_id,"{ada}")'})).data == []
    assert len(acme.events) == 1  # grace's event stays
    recreated = await api.post("/api/profiles", profile_body({"email": "ada@example.com"}))
    assert recreated.status == 201


async def test_a_deleted_profile_leaves_its_lists(api, acme, ada):
    made = await api.post("/api/lists", {"data": {"type": "list", "attributes": {"name": "Newsletter"}}})
    list_id = made.data["id"]
    linkage = {"data": [{"type": "profile", "id": ada}]}
    assert (await api.post(f"/api/lists/{list_id}/relationships/profiles", linkage)).status == 204
    assert (await api.post(DELETIONS, deletion(ada))).status == 202
    assert (await api.get(f"/api/lists/{list_id}/profiles")).data == []


async def test_an_unknown_identifier_is_still_accepted(api, acme, ada):
    assert (await api.post(DELETIONS, deletion(email="nobody@example.com"))).status == 202
    assert len(acme.profiles) == 2


@pytest.mark.parametrize("body", [deletion(email="ada@example.com", phone_number="+15005550006"), deletion()])
async def test_exactly_one_identifier_is_required(api, ada, body):
    answer = await api.post(DELETIONS, body)
    assert answer.status == 400
    assert answer.error["source"]["pointer"] == "/data/attributes/profile/data"
