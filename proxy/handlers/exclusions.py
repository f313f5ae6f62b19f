"""Global exclusions: the suppressed-profile listing and suppressing one email.

The new API has no suppression listing (hazard 13): the legacy `$list` is a scan of
`GET /api/profiles` filtered to suppressed profiles, 100 per page, sorted by suppression
time. Legacy pages need a `total`, which no cursor listing gives, so the first page read
scans to the end (⌈suppressed profiles / 100⌉ upstream calls, keeping only the
requested page in memory) and keeps the scan as a page-walk snapshot
(`proxy.engine.snapshots`): later pages are served from it.
"""

from __future__ import annotations

import logging

from proxy.engine.context import Context
from proxy.engine.lookup import find_profile
from proxy.engine.snapshots import page_window
from proxy.handlers.jobs import settled
from proxy.legacy.envelopes import page_envelope
from proxy.legacy.responses import LegacyResponse, json_response
from proxy.shapes.exclusion import REASONS, legacy_exclusion, suppressions

SUPPRESSION = "subscriptions.email.marketing.suppression"
# Every suppression is after the epoch: the filter that selects all suppressed profiles.
ANY_SUPPRESSION = f"greater-than({SUPPRESSION}.timestamp,1970-01-01T00:00:00Z)"
PAGE_SIZE = "100"  # the most GET /api/profiles serves per page
# The email and its suppressions, nothing else (email.marketing is the smallest complete object).
VIEW = (("additional-fields[profile]", "subscriptions"), ("fields[profile]", "email,subscriptions.email.marketing"))
SUPPRESSION_JOB = "profile-suppression-bulk-create-job"
SUPPRESSION_JOBS = "/api/profile-suppression-bulk-create-jobs"
log = logging.getLogger(__name__)


async def list_exclusions(ctx: Context) -> LegacyResponse:
    reason = REASONS.get(ctx.params["reason"] or "")
    condition = f'equals({SUPPRESSION}.reason,"{reason}")' if reason else ANY_SUPPRESSION
    order = "-" if ctx.params["sort"] == "desc" else ""
    query = (("filter", condition), ("sort", f"{order}{SUPPRESSION}.timestamp"), ("page[size]", PAGE_SIZE), *VIEW)
    page, count = ctx.params["page"], ctx.params["count"]
    call = ctx.call("GET", "/api/profiles", query=query)
    window, total = await page_window(ctx, call, lambda resource, _: legacy_exclusion(resource, reason), page * count, (page + 1) * count)
    return json_response(page_envelope(window, page, count, total))


async def exclude(ctx: Context) -> LegacyResponse:
    """Suppress by email; a profile that already has a global suppression is left alone.
    `num_excluded` is what the suppression job reports done, read back from the job."""
    email = ctx.params["email"]
    profile = await find_profile(ctx, "email", email, VIEW)
    if profile is not None and suppressions(profile):
        return json_response({"already_excluded": True, "num_excluded": 0})
    entry = {"type": "profile", "attributes": {"email": email}}
    body = {"data": {"type": SUPPRESSION_JOB, "attributes": {"profiles": {"data": [entry]}}}}
    accepted = await ctx.send(ctx.call("POST", SUPPRESSION_JOBS, body=body))
    job = await settled(ctx, SUPPRESSION_JOBS + "/{job_id}", accepted.document["data"])
    attributes = job.get("attributes") or {}
    if attributes.get("status") != "complete":
        log.warning("suppression job %s still %s: answering what it has done so far", job["id"], attributes.get("status"))
    return json_response({"already_excluded": False, "num_excluded": attributes.get("completed_count") or 0})
