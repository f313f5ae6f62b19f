"""What every readable bulk job reports of its progress."""

from __future__ import annotations

from typing import Any, Protocol

from proxy.sandbox import jsonapi


class BulkJob(Protocol):
    status: str
    created_at: float
    total_count: int
    completed_at: float | None


def progress(job: BulkJob, not_completed: int) -> dict[str, Any]:
    """The job's status, times and counts: until it has run it has completed nothing, then
    all of its total but `not_completed` (the entries it refused or skipped)."""
    done = job.completed_at is not None
    return {
        "status": job.status,
        "created_at": jsonapi.isoformat(job.created_at),
        "total_count": job.total_count,
        "completed_count": job.total_count - not_completed if done else 0,
        "completed_at": jsonapi.isoformat(job.completed_at) if job.completed_at is not None else None,
    }
