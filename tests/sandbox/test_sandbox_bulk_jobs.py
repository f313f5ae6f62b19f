"""Bulk jobs: events recorded as POST /api/events records them (same de-duplication),
refused whole before anything is stored; profiles upserted in order, refusals counted and
readable as import errors. Both run after their 202, as Klaviyo's do."""

from __future__ import annotations

from sandbox_helpers import after_jobs, event_body, profile_body


def bulk(*entries) -> dict:
    return {"data": {"type": "event-bulk-create-job", "attributes": {"events-bulk-create": {"data": list(entries)}}}}


def entry(email: str, *events: dict) -> dict:
    profile = {"data": {"type": "profile", "attributes": {"email": email}}}
    return {"type": "event-bulk-create", "attributes": {"profile": profile, "events": {"data": list(events)}}}


def event(unique_id: str, metric: str = "Placed Order", **attributes) -> dict:
    metric_data = {"data": {"type": "metric", "attributes": {"name": metric}}}
    return {"type": "event", "attributes": {"properties": {}, "metric": metric_data, "unique_id": unique_id, **attributes}}


def import_job(*profiles: dict, lists: tuple[str, ...] = ()) -> dict:
    data = {"type": "profile-bulk-import-job", "attributes": {"profiles": {"data": list(profiles)}}}
    if lists:
        data["relationships"] = {"lists": {"data": [{"type": "list", "id": list_id} for list_id in lists]}}
    return {"data": data}


def unique_ids(account) -> list[str]:
    return sorted(e.unique_id for e in account.events)


async def test_bulk_events_land_like_single_ones(api, acme):
    answer = await api.post("/api/event-bulk-create-jobs", bulk(
        entry("ada@example.com", event("o-1", value=9.5), event("o-2", metric="Viewed Product")),
        entry("grace@example.com", event("o-3")),
    ))
    assert (answer.status, answer.body) == (202, b"")
    assert len(acme.events) == 0  # not inside the response
    await after_jobs(api)
    assert unique_ids(acme) == ["o-1", "o-2", "o-3"]
    assert sorted(p.email for p in acme.profiles) == ["ada@example.com", "grace@example.com"]
    first = next(e for e in acme.events if e.unique_id == "o-1")
    assert first.event_properties == {"$value": 9.5}  # unique_id is not echoed in the properties


async def test_unique_ids_dedupe_across_single_and_bulk_calls(api, acme):
    await api.post("/api/events", event_body(email="ada@example.com", unique_id="o-1"))
    answer = await api.post("/api/event-bulk-create-jobs", bulk(
        entry("ada@example.com", event("o-1"), event("o-2"), event("o-2")),
    ))
    assert answer.status == 202
    await after_jobs(api)
    assert unique_ids(acme) == ["o-1", "o-2"]


async def test_one_bad_event_refuses_the_request_and_stores_nothing(api, acme):
    answer = await api.post("/api/event-bulk-create-jobs", bulk(
        entry("ada@example.com", event("o-1")),
        entry("not-an-email", event("o-2")),
    ))
    assert answer.status == 400
    assert answer.error["source"] == {"pointer": "/data/attributes/events-bulk-create/data/1/attributes/profile/data/attributes/email"}
    assert (len(acme.events), len(acme.profiles), len(acme.metrics)) == (0, 0, 0)


async def test_a_bad_event_time_points_at_the_event(api, acme):
    answer = await api.post("/api/event-bulk-create-jobs", bulk(entry("ada@example.com", event("o-1"), event("o-2", time="1980-01-01T00:00:00+00:00"))))
    assert answer.status == 400
    assert answer.error["source"] == {"pointer": "/data/attributes/events-bulk-create/data/0/attributes/events/data/1/attributes/time"}
    assert len(acme.events) == 0


async def test_at_most_a_thousand_events(api, acme):
    answer = await api.post("/api/event-bulk-create-jobs", bulk(entry("ada@example.com", *(event(f"o-{n}") for n in range(1001)))))
    assert answer.status == 400
    assert answer.error["source"] == {"pointer": "/data/attributes/events-bulk-create/data"}


async def test_profile_import_upserts_in_order_and_counts_refusals(api, acme):
    await api.post("/api/profile-import", profile_body({"email": "ada@example.com", "first_name": "Ada"}))
    answer = await api.post("/api/profile-bulk-import-jobs", import_job(
        {"type": "profile", "attributes": {"email": "ada@example.com", "last_name": "Lovelace"}},
        {"type": "profile", "attributes": {"email": "grace@example.com"}},
        {"type": "profile", "attributes": {"phone_number": "12345"}},
        {"type": "profile", "attributes": {"email": "grace@example.com", "first_name": "Grace"}},
    ))
    assert answer.status == 202
    job = answer.data
    assert job["type"] == "profile-bulk-import-job"
    counts = ("status", "total_count", "completed_count", "failed_count", "completed_at")
    assert {k: job["attributes"][k] for k in counts} == {
        "status": "queued", "total_count": 4, "completed_count": 0, "failed_count": 0, "completed_at": None,
    }
    assert acme.profiles.find("email", "grace@example.com") is None  # nothing imported inside the response
    await after_jobs(api)
    done = (await api.get(f"/api/profile-bulk-import-jobs/{job['id']}")).data["attributes"]
    assert {k: done[k] for k in counts[:4]} == {"status": "complete", "total_count": 4, "completed_count": 3, "failed_count": 1}
    assert done["completed_at"] is not None
    ada = acme.profiles.find("email", "ada@example.com")
    grace = acme.profiles.find("email", "grace@example.com")
    assert (ada.first_name, ada.last_name, grace.first_name) == ("Ada", "Lovelace", "Grace")
    assert len(acme.profiles) == 2
    (error,) = (await api.get(f"/api/profile-bulk-import-jobs/{job['id']}/import-errors")).data
    assert error["type"] == "import-error"
    assert error["attributes"]["source"] == {"pointer": "/data/attributes/profiles/data/2/attributes/phone_number"}
    assert error["attributes"]["original_payload"] == {"type": "profile", "attributes": {"phone_number": "12345"}}
    assert error["attributes"]["code"] == "invalid"


async def test_import_errors_page_through_every_refusal(api, acme):
    bad = [{"type": "profile", "attributes": {"email": f"bad{n}"}} for n in range(5)]
    job = (await api.post("/api/profile-bulk-import-jobs", import_job(*bad))).data
    await after_jobs(api)
    first = await api.get(f"/api/profile-bulk-import-jobs/{job['id']}/import-errors", {"page[size]": "3"})
    assert len(first.data) == 3 and "next" in first.json["links"]
    rest = await api.walk(f"/api/profile-bulk-import-jobs/{job['id']}/import-errors", {"page[size]": "3"})
    assert [e["attributes"]["original_payload"]["attributes"]["email"] for e in rest] == [f"bad{n}" for n in range(5)]


async def test_profile_import_adds_to_lists_that_exist(api, acme):
    created = await api.post("/api/lists", {"data": {"type": "list", "attributes": {"name": "Imported"}}})
    list_id = created.data["id"]
    answer = await api.post("/api/profile-bulk-import-jobs", import_job(
        {"type": "profile", "attributes": {"email": "ada@example.com"}}, lists=(list_id,)
    ))
    assert answer.status == 202
    await after_jobs(api)
    assert acme.profiles.find("email", "ada@example.com").id in acme.lists.get(list_id).members
    missing = await api.post("/api/profile-bulk-import-jobs", import_job(
        {"type": "profile", "attributes": {"email": "x@example.com"}}, lists=("NoSuch",)
    ))
    assert missing.status == 404


async def test_an_unknown_import_job_is_404(api):
    assert (await api.get("/api/profile-bulk-import-jobs/01HNOPE")).status == 404
