"""Waiting briefly for an asynchronous job a legacy answer depends on.

Legacy endpoints answered synchronously; the new API answers a job's 202 before the job
has run. An answer built from the job's outcome polls its status, backing off, for a few
seconds at most (a handful of reads, far inside the job reads' 75/s, 750/m tier), and
then answers from whatever the job reports by then — never from what it is expected to do.
"""

from __future__ import annotations

import asyncio
from typing import Any

from proxy.engine.context import Context

POLL_DELAYS = (0.1, 0.2, 0.4, 0.8, 1.5)  # seconds before each read: about 3 s in all
FINISHED = frozenset({"complete", "cancelled"})


async def settled(ctx: Context, path: str, job: dict[str, Any]) -> dict[str, Any]:
    """The job resource once finished, or as it stands when the polling gives up. A read
    that reports no status at all (a dry run's placeholder) ends the wait."""
    for delay in POLL_DELAYS:
        if (job.get("attributes") or {}).get("status") in FINISHED:
            break
        await asyncio.sleep(delay)
        reply = await ctx.send(ctx.call("GET", path, path_params={"job_id": job["id"]}))
        job = (reply.document or {}).get("data") or job
        if (job.get("attributes") or {}).get("status") is None:
            break
    return job
