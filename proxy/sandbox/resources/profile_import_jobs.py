"""Bulk profile import: POST /api/profile-bulk-import-jobs, reading a job and its import
errors back.

The request is checked as a whole when it arrives (1 to 10,000 profiles, lists that
exist); a refusal there is the request's 4xx. Like Klaviyo's, the job itself runs after
the 202 (`proxy.sandbox.jobs`): it is `queued` and has imported nobody until it runs.
Then each profile is upserted exactly as POST /api/profile-import upserts it, in request
order; a profile that upsert would refuse (a bad identifier, a duplicate) becomes an
import error of the job — with its `original_payload` and a pointer into the request —
instead of failing the rest, and the job is `complete` with its counts.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from proxy.sandbox import errors, jsonapi
from proxy.sandbox.errors import ApiError
from proxy.sandbox.groups import MailingList
from proxy.sandbox.jsonapi import Relationship, Resource, View, same_named
from proxy.sandbox.pagination import Sort, page_links, page_size, paginate
from proxy.sandbox.lookup import existing
from proxy.sandbox.payload import attributes_of, member, resource_data
from proxy.sandbox.resources.profiles import create_or_update_profile
from proxy.sandbox.resources.job_progress import progress
from proxy.sandbox.routing import Call, Reply, RouteTable
from proxy.sandbox.store import ImportFailure, ImportJob

ROUTES = RouteTable()

JOB_TYPE = "profile-bulk-import-job"
PROFILES = "/data/attributes/profiles"
MAX_PROFILES = 10_000
# Klaviyo keeps a finished job readable for a while; its expiry is reported, not enforced.
KEPT_FOR = 7 * 86_400
BY_POSITION: Sort[tuple[int, ImportFailure]] = Sort("position", lambda item: (item[0], item[1].id))


def job_resource(job: ImportJob) -> Resource:
    reported = progress(job, not_completed=len(job.failures))
    attributes = {
        **reported,
        "failed_count": len(job.failures),
        "expires_at": jsonapi.isoformat(job.created_at + KEPT_FOR),
        # The sandbox starts and finishes a job in one step.
        "started_at": reported["completed_at"],
    }
    relationships = (
        Relationship("lists", "list", tuple(job.list_ids)),
        Relationship("profiles", "profile", tuple(job.profile_ids)),
        Relationship("import-errors", "import-error", tuple(failure.id for failure in job.failures)),
    )
    return Resource(JOB_TYPE, job.id, attributes, relationships)


@ROUTES.route("POST", "/api/profile-bulk-import-jobs")
def bulk_import_profiles(call: Call) -> Reply:
    data = resource_data(call.body, JOB_TYPE)
    attributes = attributes_of(data)
    profiles = member(member(attributes, "profiles", "/data/attributes", dict, required=True), "data", PROFILES, list, required=True)
    if not 0 < len(profiles) <= MAX_PROFILES:
        raise errors.invalid(f"Import 1 to {MAX_PROFILES} profiles per job.", pointer=f"{PROFILES}/data")
    lists = _lists(call, member(data, "relationships", "/data", dict) or {})
    job = ImportJob(
        id=call.ids.ulid(call.now),
        created_at=call.now,
        total_count=len(profiles),
        list_ids=[mailing_list.id for mailing_list in lists],
    )
    call.account.import_jobs[job.id] = job

    def run(now: float) -> None:
        at_run = replace(call, now=now)
        for index, entry in enumerate(profiles):
            _import(at_run, index, entry, job)
        for mailing_list in lists:
            for profile_id in job.profile_ids:
                mailing_list.members.add(profile_id, now)
        job.status, job.completed_at = "complete", now

    call.account.jobs.defer(call.now, run)
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
        found.append(existing(call.account.lists.get, "list", member(item, "id", at, str, required=True)))
    return found


def _import(call: Call, index: int, entry: Any, job: ImportJob) -> None:
    try:
        reply = create_or_update_profile(replace(call, body={"data": entry}))
    except ApiError as refusal:
        pointer = f"{PROFILES}/data/{index}" + (refusal.pointer or "/data").removeprefix("/data")
        payload = entry if isinstance(entry, dict) else None
        job.failures.append(
            ImportFailure(call.ids.uuid(), refusal.code, refusal.title, refusal.detail, pointer, payload)
        )
        return
    job.profile_ids.append(reply.document["data"]["id"])


@ROUTES.route("GET", "/api/profile-bulk-import-jobs/{job_id}")
def get_bulk_import_profiles_job(call: Call) -> Reply:
    return Reply(200, jsonapi.single(job_resource(_job(call, "job_id")), View.of(call)))


@ROUTES.route("GET", "/api/profile-bulk-import-jobs/{id}/import-errors")
def get_errors_for_bulk_import_profiles_job(call: Call) -> Reply:
    job = _job(call, "id")
    view = View.of(call)
    page = paginate(list(enumerate(job.failures)), BY_POSITION, call.param("page[cursor]"), page_size(call), lambda _: True)
    resources = [_failure_resource(failure) for _, failure in page.items]
    return Reply(200, jsonapi.collection(resources, view, page_links(call, page)))


def _failure_resource(failure: ImportFailure) -> Resource:
    attributes = {
        **same_named(failure, "code", "title", "detail"),
        "source": {"pointer": failure.pointer},
        "original_payload": failure.original_payload,
    }
    return Resource("import-error", failure.id, attributes)


def _job(call: Call, name: str) -> ImportJob:
    return existing(call.account.import_jobs.get, "bulk import job", call.path_params[name])
