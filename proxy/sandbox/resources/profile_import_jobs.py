"""Bulk profile import: POST /api/profile-bulk-import-jobs and reading a job back.

Each profile is upserted exactly as POST /api/profile-import upserts it, in request
order; a profile that upsert would refuse (a bad identifier, a duplicate) becomes an
import error of the job instead of failing the request, as in Klaviyo. The sandbox runs
a job as it accepts it, so the 202 already reports it complete.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from proxy.sandbox import errors, jsonapi
from proxy.sandbox.errors import ApiError
from proxy.sandbox.jsonapi import Relationship, Resource, View
from proxy.sandbox.payload import member, resource_data
from proxy.sandbox.resources.profiles import create_or_update_profile
from proxy.sandbox.routing import Call, Reply, Route
from proxy.sandbox.groups import MailingList
from proxy.sandbox.store import ImportJob

JOB_TYPE = "profile-bulk-import-job"
PROFILES = "/data/attributes/profiles"
MAX_PROFILES = 10_000
# Klaviyo keeps a finished job readable for a while; its expiry is reported, not enforced.
KEPT_FOR = 7 * 86_400


def job_resource(job: ImportJob) -> Resource:
    created = jsonapi.isoformat(job.created_at)
    return Resource(
        type=JOB_TYPE,
        id=job.id,
        attributes={
            "status": "complete",
            "created_at": created,
            "total_count": job.total_count,
            "completed_count": job.total_count - len(job.failures),
            "failed_count": len(job.failures),
            "completed_at": created,
            "expires_at": jsonapi.isoformat(job.created_at + KEPT_FOR),
            "started_at": created,
        },
        relationships=(
            Relationship("lists", "list", tuple(job.list_ids)),
            Relationship("profiles", "profile", tuple(job.profile_ids)),
            Relationship("import-errors", "import-error"),
        ),
    )


def bulk_import_profiles(call: Call) -> Reply:
    data = resource_data(call.body, JOB_TYPE)
    attributes = member(data, "attributes", "/data", dict, required=True)
    profiles = member(member(attributes, "profiles", "/data/attributes", dict, required=True), "data", PROFILES, list, required=True)
    if not 0 < len(profiles) <= MAX_PROFILES:
        raise errors.invalid(f"Import 1 to {MAX_PROFILES} profiles per job.", pointer=f"{PROFILES}/data")
    lists = _lists(call, member(data, "relationships", "/data", dict) or {})
    job = ImportJob(
        id=call.ids.ulid(call.now),
        created_at=call.now,
        total_count=len(profiles),
        profile_ids=[],
        list_ids=[mailing_list.id for mailing_list in lists],
        failures=[],
    )
    for entry in profiles:
        _import(call, entry, job)
    for mailing_list in lists:
        for profile_id in job.profile_ids:
            mailing_list.members.add(profile_id, call.now)
    call.account.import_jobs[job.id] = job
    return Reply(202, jsonapi.single(job_resource(job), View.of(call)))


def _lists(call: Call, relationships: dict[str, Any]) -> list[MailingList]:
    """The lists to add the imported profiles to, each of which must exist."""
    lists = member(relationships, "lists", "/data/relationships", dict)
    if lists is None:
        return []
    found = []
    for index, item in enumerate(member(lists, "data", "/data/relationships/lists", list, required=True)):
        at = f"/data/relationships/lists/data/{index}"
        if not isinstance(item, dict):
            raise errors.invalid("Each list must be a resource identifier.", pointer=at)
        list_id = member(item, "id", at, str, required=True)
        mailing_list = call.account.lists.get(list_id)
        if mailing_list is None:
            raise errors.not_found(f"A list with id {list_id!r} does not exist.")
        found.append(mailing_list)
    return found


def _import(call: Call, entry: Any, job: ImportJob) -> None:
    try:
        reply = create_or_update_profile(replace(call, body={"data": entry}))
    except ApiError as refusal:
        job.failures.append(refusal.detail)
        return
    job.profile_ids.append(reply.document["data"]["id"])


def get_bulk_import_profiles_job(call: Call) -> Reply:
    job = call.account.import_jobs.get(call.path_params["job_id"])
    if job is None:
        raise errors.not_found(f"A bulk import job with id {call.path_params['job_id']!r} does not exist.")
    return Reply(200, jsonapi.single(job_resource(job), View.of(call)))


ROUTES = (
    Route("POST", "/api/profile-bulk-import-jobs", "bulk_import_profiles", bulk_import_profiles),
    Route("GET", "/api/profile-bulk-import-jobs/{job_id}", "get_bulk_import_profiles_job", get_bulk_import_profiles_job),
)
