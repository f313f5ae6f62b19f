"""Waiting for a bulk profile import job and reading which writes it refused.

`POST /api/profile-bulk-import-jobs` answers 202 before the job has run; only the job's
status says when it is done and its import errors say which profiles it refused. So a
spooled identify sent in a job is complete only once the job is: the worker polls the job
(`GET /api/profile-bulk-import-jobs/{id}`, backing off to one read every 15 s, far inside
the operation's 10/s, 150/m tier) and then pages through the import errors (100 a read).

An import error names its profile by a JSON pointer into the request
(`/data/attributes/profiles/data/<n>…`) or by the `original_payload` it echoes; when an
error names neither in a way that picks out one write, or the errors do not account for
the job's `failed_count`, the refused writes cannot be told apart (`None`), and the
caller settles the job's writes one call each instead — upserts are safe to repeat.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from proxy.upstream.client import Call, Credentials, UpstreamClient
from proxy.newapi.errors import UpstreamError, UpstreamThrottled

JOB = "/api/profile-bulk-import-jobs/{job_id}"
ERRORS = "/api/profile-bulk-import-jobs/{id}/import-errors"
FIRST_POLL = 0.5  # seconds before the first status read; each later pause doubles
LONGEST_POLL = 15.0
PATIENCE = 900.0  # give up waiting after this long: the writes go back in line
FINISHED = frozenset({"complete", "cancelled"})
_PROFILE_POINTER = re.compile(r"/data/attributes/profiles/data/(\d+)(?:/|$)")


@dataclass(frozen=True, slots=True)
class Finished:
    status: str  # "complete" or "cancelled"
    failed: int  # the job's failed_count


async def wait_for(upstream: UpstreamClient, credentials: Credentials, job_id: str) -> Finished | None:
    """The job once finished, or None when it did not finish within `PATIENCE`.
    A read that fails (throttled, upstream down) is simply tried again later."""
    deadline = time.monotonic() + PATIENCE
    pause = FIRST_POLL
    while time.monotonic() + pause <= deadline:
        await asyncio.sleep(pause)
        try:
            reply = await upstream.send(Call("GET", JOB, path_params={"job_id": job_id}), credentials)
        except UpstreamThrottled as throttled:
            pause = max(pause, float(throttled.retry_after))
            continue
        except UpstreamError:
            pause = min(LONGEST_POLL, pause * 2)
            continue
        attributes = ((reply.document or {}).get("data") or {}).get("attributes") or {}
        if attributes.get("status") in FINISHED:
            return Finished(attributes["status"], int(attributes.get("failed_count") or 0))
        pause = min(LONGEST_POLL, pause * 2)
    return None


async def import_errors(upstream: UpstreamClient, credentials: Credentials, job_id: str) -> list[dict[str, Any]]:
    """Every import error of the job (raises UpstreamError when one cannot be read)."""
    found: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        query: tuple[tuple[str, str], ...] = (("page[size]", "100"),)
        if cursor:
            query += (("page[cursor]", cursor),)
        reply = await upstream.send(Call("GET", ERRORS, path_params={"id": job_id}, query=query), credentials)
        found += (reply.document or {}).get("data") or []
        cursor = reply.next_cursor
        if not cursor:
            return found


def refused(errors: Sequence[dict[str, Any]], sent: Sequence[dict[str, Any]], failed: int) -> dict[int, str] | None:
    """Which of the sent profile resources (by position) the job refused, with why; None
    when the errors cannot be matched to exactly `failed` writes."""
    reasons: dict[int, str] = {}
    for error in errors:
        attributes = error.get("attributes") or {}
        index = _position(attributes, sent)
        if index is None:
            return None
        reasons.setdefault(index, f"import-error {attributes.get('code') or 'error'}: {attributes.get('detail') or ''}".strip())
    return reasons if len(reasons) == failed else None


def _position(attributes: dict[str, Any], sent: Sequence[dict[str, Any]]) -> int | None:
    pointer = (attributes.get("source") or {}).get("pointer") or ""
    match = _PROFILE_POINTER.match(pointer)
    if match and int(match.group(1)) < len(sent):
        return int(match.group(1))
    payload = attributes.get("original_payload")
    echoed = [index for index, resource in enumerate(sent) if payload in (resource, resource.get("attributes"))]
    return echoed[0] if payload is not None and len(echoed) == 1 else None
