"""Suppressions: bulk suppression jobs, and finding suppressed profiles through
GET /api/profiles (filters, sorts and `additional-fields[profile]=subscriptions`)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sandbox_helpers import after_jobs, profile_body

from proxy.sandbox import demo_account
from proxy.sandbox.store import ListSuppression

JOBS = "/api/profile-suppression-bulk-create-jobs"
SUPPRESSION = "subscriptions.email.marketing.suppression"
LIST_SUPPRESSIONS = "subscriptions.email.marketing.list_suppressions"
SUBSCRIPTIONS = {"additional-fields[profile]": "subscriptions"}


def job_body(*emails: str, **relationships) -> dict:
    profiles = [{"type": "profile", "attributes": {"email": email}} for email in emails]
    data = {"type": "profile-suppression-bulk-create-job", "attributes": {"profiles": {"data": profiles}}}
    if relationships:
        data["relationships"] = {name: {"data": {"type": name, "id": id_}} for name, id_ in relationships.items()}
    return {"data": data}


async def create(api, email: str) -> dict:
    answer = await api.post("/api/profiles", profile_body({"email": email}))
    assert answer.status == 201
    return answer.data


async def marketing(api, profile_id: str) -> dict:
    answer = await api.get(f"/api/profiles/{profile_id}", SUBSCRIPTIONS)
    return answer.data["attributes"]["subscriptions"]["email"]["marketing"]


async def test_a_job_suppresses_known_and_unknown_emails(api, acme, clock):
    known = await create(api, "ada@example.com")
    answer = await api.post(JOBS, job_body("ADA@example.com", "new@example.com"))
    assert answer.status == 202
    job = answer.data
    assert job["type"] == "profile-suppression-bulk-create-job"
    created = job["attributes"]["created_at"]
    # Like Klaviyo's, the job is queued on its 202 and has suppressed nobody yet.
    assert job["attributes"] == {
        "status": "queued", "created_at": created, "total_count": 2,
        "completed_count": 0, "completed_at": None, "skipped_count": 0,
    }  # fmt: skip
    assert (await marketing(api, known["id"]))["suppression"] == []
    await after_jobs(api)
    read = (await api.get(f"{JOBS}/{job['id']}")).data["attributes"]
    assert read == {
        "status": "complete", "created_at": created, "total_count": 2,
        "completed_count": 2, "completed_at": read["completed_at"], "skipped_count": 0,
    }  # fmt: skip
    assert read["completed_at"] > created
    state = await marketing(api, known["id"])
    assert state["suppression"] == [{"reason": "USER_SUPPRESSED", "timestamp": read["completed_at"]}]
    assert state["can_receive_email_marketing"] is False
    assert acme.profiles.find("email", "new@example.com").subscriptions.email_suppressions[0].reason == "USER_SUPPRESSED"


async def test_suppressing_again_is_skipped_and_the_job_reads_back(api):
    await api.post(JOBS, job_body("ada@example.com"))
    await after_jobs(api)
    again = await api.post(JOBS, job_body("ada@example.com"))
    await after_jobs(api)
    read = await api.get(f"{JOBS}/{again.data['id']}")
    assert read.status == 200
    assert (read.data["attributes"]["skipped_count"], read.data["attributes"]["completed_count"]) == (1, 0)
    assert (await api.get(f"{JOBS}/01HZZZZZZZZZZZZZZZZZZZZZZZ")).status == 404


@pytest.mark.parametrize(
    ("body", "status", "pointer"),
    [
        (job_body(*(f"p{i}@example.com" for i in range(101))), 400, "/data/attributes/profiles/data"),
        (job_body("not-an-email"), 400, "/data/attributes/profiles/data/0/attributes/email"),
        (job_body(), 400, "/data/attributes/profiles/data"),
        (job_body("ada@example.com", list="Y6nRLr"), 404, None),
    ],
)
async def test_bad_jobs_are_refused(api, body, status, pointer):
    answer = await api.post(JOBS, body)
    assert answer.status == status
    assert answer.error.get("source", {}).get("pointer") == pointer


async def test_a_job_may_suppress_a_lists_members(api, acme):
    members = [await create(api, f"{name}@example.com") for name in ("m1", "m2")]
    await create(api, "outsider@example.com")
    made = await api.post("/api/lists", {"data": {"type": "list", "attributes": {"name": "Members"}}})
    list_id = made.data["id"]
    linkage = {"data": [{"type": "profile", "id": member["id"]} for member in members]}
    assert (await api.post(f"/api/lists/{list_id}/relationships/profiles", linkage)).status == 204
    body = {"data": {"type": "profile-suppression-bulk-create-job", "attributes": {},
                     "relationships": {"list": {"data": {"type": "list", "id": list_id}}}}}  # fmt: skip
    answer = await api.post(JOBS, body)
    assert answer.status == 202 and answer.data["attributes"]["total_count"] == 2
    await after_jobs(api)
    suppressed = {profile.email for profile in acme.profiles if profile.subscriptions.email_suppressions}
    assert suppressed == {"m1@example.com", "m2@example.com"}


@pytest.fixture
async def suppressed(api, acme, clock) -> list[dict]:
    """Four profiles: two suppressed a minute apart, one suppressed at the same second as
    the second, one never suppressed."""
    people = [await create(api, f"{name}@example.com") for name in ("a", "b", "c", "d")]
    reasons = {"a": "HARD_BOUNCE", "b": "USER_SUPPRESSED", "c": "UNSUBSCRIBE"}
    for person in people:
        profile = acme.profiles.get(person["id"])
        name = profile.email[0]
        if name in reasons:
            profile.subscriptions.suppress_email(reasons[name], clock.now)
        if name == "a":
            clock.advance(60)
    return people


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        (f'equals({SUPPRESSION}.reason,"HARD_BOUNCE")', ["a"]),
        (f"greater-than({SUPPRESSION}.timestamp,1970-01-01T00:00:00Z)", ["a", "b", "c"]),
        (f"greater-or-equal({SUPPRESSION}.timestamp,{{second}})", ["b", "c"]),
        (f'and(equals({SUPPRESSION}.reason,"UNSUBSCRIBE"),less-than({SUPPRESSION}.timestamp,{{second}}))', []),
    ],
)
async def test_suppression_filters(api, suppressed, acme, expression, expected):
    second = acme.profiles.find("email", "b@example.com").subscriptions.email_suppressions[0].timestamp
    value = expression.format(second=datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    answer = await api.get("/api/profiles", {"filter": value})
    assert sorted(item["attributes"]["email"][0] for item in answer.data) == expected


@pytest.mark.parametrize("descending", [False, True])
async def test_sorting_by_suppression_time_walks_ties_once(api, suppressed, descending):
    sort = ("-" if descending else "") + f"{SUPPRESSION}.timestamp"
    query = {"filter": f"greater-than({SUPPRESSION}.timestamp,1970-01-01T00:00:00Z)", "sort": sort, "page[size]": "1"}
    walked = [item["attributes"]["email"][0] for item in await api.walk("/api/profiles", query)]
    assert sorted(walked) == ["a", "b", "c"]
    assert walked[-1 if descending else 0] == "a"


async def test_list_suppression_conditions_hold_for_one_entry(api, suppressed, acme, clock):
    profile = acme.profiles.find("email", "d@example.com")
    profile.subscriptions.email_list_suppressions += [
        ListSuppression("ListA1", "USER_SUPPRESSED", clock.now),
        ListSuppression("ListB2", "UNSUBSCRIBE", clock.now),
    ]

    async def emails(expression: str) -> list[str]:
        return [item["attributes"]["email"] for item in (await api.get("/api/profiles", {"filter": expression})).data]

    assert await emails(f'and(equals({LIST_SUPPRESSIONS}.list_id,"ListB2"),equals({LIST_SUPPRESSIONS}.reason,"UNSUBSCRIBE"))') == ["d@example.com"]
    assert await emails(f'and(equals({LIST_SUPPRESSIONS}.list_id,"ListB2"),equals({LIST_SUPPRESSIONS}.reason,"USER_SUPPRESSED"))') == []
    listed = await api.get(f"/api/profiles/{profile.id}", SUBSCRIPTIONS)
    entries = listed.data["attributes"]["subscriptions"]["email"]["marketing"]["list_suppressions"]
    assert [(entry["list_id"], entry["reason"]) for entry in entries] == [("ListA1", "USER_SUPPRESSED"), ("ListB2", "UNSUBSCRIBE")]
    walked = await api.walk("/api/profiles", {"sort": f"-{LIST_SUPPRESSIONS}.timestamp", "page[size]": "2"})
    assert walked[0]["id"] == profile.id


async def test_an_unknown_suppression_field_is_refused(api):
    answer = await api.get("/api/profiles", {"filter": f'equals({SUPPRESSION}.channel,"email")'})
    assert answer.status == 400


def test_the_demo_account_has_every_suppression_reason_and_an_exchange_id(clock):
    profiles = list(demo_account(clock.now).profiles)
    reasons = {entry.reason for profile in profiles for entry in profile.subscriptions.email_suppressions}
    assert reasons == {"HARD_BOUNCE", "INVALID_EMAIL", "SPAM_COMPLAINT", "UNSUBSCRIBE", "USER_SUPPRESSED"}
    assert sum(1 for profile in profiles if profile.kx) == 1
