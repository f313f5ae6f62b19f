"""Bulk email suppression: POST /api/profile-suppression-bulk-create-jobs and reading a
job back. A job names up to 100 emails and/or a list or segment whose current members
(those with an email, when the job is accepted) are suppressed. Like Klaviyo's, a job is
`queued` on its 202 and suppresses nobody until it has run (`proxy.sandbox.jobs`); then it
is `complete`, with `skipped_count` the emails that already had the suppression.
"""

from __future__ import annotations

from typing import Any

from proxy.sandbox import errors, identity, jsonapi
from proxy.sandbox.groups import MailingList, Segment
from proxy.sandbox.jsonapi import Relationship, Resource, View
from proxy.sandbox.lookup import existing
from proxy.sandbox.payload import attributes_of, member, resource_data
from proxy.sandbox.resources.job_progress import progress
from proxy.sandbox.routing import Call, Reply, RouteTable
from proxy.sandbox.store import SuppressionJob

ROUTES = RouteTable()

JOB_TYPE = "profile-suppression-bulk-create-job"
PROFILES = "/data/attributes/profiles"
MAX_EMAILS = 100
# A suppression requested through the API is recorded as the account's own decision.
REASON = "USER_SUPPRESSED"

Group = MailingList | Segment


def job_resource(job: SuppressionJob) -> Resource:
    attributes = {**progress(job, not_completed=job.skipped_count), "skipped_count": job.skipped_count}
    return Resource(JOB_TYPE, job.id, attributes, (Relationship("lists", "list"), Relationship("segments", "segment")))


@ROUTES.route("POST", "/api/profile-suppression-bulk-create-jobs")
def bulk_suppress_profiles(call: Call) -> Reply:
    data = resource_data(call.body, JOB_TYPE)
    attributes = attributes_of(data)
    profiles = member(attributes, "profiles", "/data/attributes", dict)
    groups = _groups(call, member(data, "relationships", "/data", dict) or {})
    if profiles is None and not groups:
        raise errors.invalid("Give the profiles to suppress, or a list or segment.", pointer=PROFILES)
    emails = (_emails(profiles) if profiles is not None else []) + _member_emails(call, groups)
    job = SuppressionJob(id=call.ids.ulid(call.now), created_at=call.now, total_count=len(emails))
    call.account.suppression_jobs[job.id] = job

    def run(now: float) -> None:
        job.skipped_count = sum(1 for email in emails if not _suppress(call, email, now))
        job.status, job.completed_at = "complete", now

    call.account.jobs.defer(call.now, run)
    view = View.of(call)
    return Reply(202, jsonapi.single(job_resource(job), view))


def _groups(call: Call, relationships: dict[str, Any]) -> list[Group]:
    """The list and the segment the job names, each 404 when unknown."""
    found: list[Group] = []
    for name, store in (("list", call.account.lists), ("segment", call.account.segments)):
        relationship = member(relationships, name, "/data/relationships", dict)
        if relationship is None:
            continue
        linkage = member(relationship, "data", f"/data/relationships/{name}", dict, required=True)
        group_id = member(linkage, "id", f"/data/relationships/{name}/data", str, required=True)
        found.append(existing(store.get, name, group_id))
    return found


def _member_emails(call: Call, groups: list[Group]) -> list[str]:
    profiles = (call.account.profiles.get(m.profile_id) for group in groups for m in group.members.ordered())
    return [profile.email for profile in profiles if profile is not None and profile.email is not None]


def _emails(profiles: dict[str, Any]) -> list[str]:
    entries = member(profiles, "data", PROFILES, list, required=True)
    if not 0 < len(entries) <= MAX_EMAILS:
        raise errors.invalid(f"Suppress 1 to {MAX_EMAILS} profiles per job.", pointer=f"{PROFILES}/data")
    return [_email(entry, f"{PROFILES}/data/{index}") for index, entry in enumerate(entries)]


def _email(entry: Any, at: str) -> str:
    if not isinstance(entry, dict) or entry.get("type") != "profile":
        raise errors.invalid("Each entry must be a profile resource.", pointer=at)
    attributes = member(entry, "attributes", at, dict, required=True)
    email = member(attributes, "email", f"{at}/attributes", str, required=True)
    return identity.identifiers({"email": email}, f"{at}/attributes")["email"]


def _suppress(call: Call, email: str, now: float) -> bool:
    """Suppress the profile with this email, created when unknown; False if it already was."""
    store = call.account.profiles
    profile = store.find("email", email)
    if profile is None:
        profile = identity.create(store, call.ids, now)
        store.set_identifier(profile, "email", email)
    return profile.subscriptions.suppress_email(REASON, now)


@ROUTES.route("GET", "/api/profile-suppression-bulk-create-jobs/{job_id}")
def get_bulk_suppress_profiles_job(call: Call) -> Reply:
    job = existing(call.account.suppression_jobs.get, "suppression job", call.path_params["job_id"])
    view = View.of(call)
    return Reply(200, jsonapi.single(job_resource(job), view))
