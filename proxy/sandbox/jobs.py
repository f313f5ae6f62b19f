"""Asynchronous work: accepted by one request, done after its response.

Klaviyo answers a job's 202 before it runs the job, so a read right after the write still
sees the old state. The sandbox keeps that: the accepting handler validates what it can
(a refusal is the request's 4xx) and queues the rest, which becomes due `delay` seconds
later and runs before the first request the account serves at or after that moment — no
request can observe the difference from a background worker. Klaviyo gives no deadline
for its jobs; the sandbox's default delay is short so that clients which wait, as they
must on Klaviyo, do not wait long.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

# Seconds from acceptance until a job runs, unless the sandbox is given another delay.
JOB_DELAY = 0.25

Work = Callable[[float], None]  # called with the moment it runs


@dataclass(slots=True)
class _Queued:
    due: float
    work: Work


@dataclass
class JobQueue:
    delay: float = JOB_DELAY
    _queued: list[_Queued] = field(default_factory=list)

    def defer(self, accepted_at: float, work: Work) -> None:
        self._queued.append(_Queued(accepted_at + self.delay, work))

    def run_due(self, now: float) -> None:
        """Run, in the order they were accepted, the jobs due by `now`."""
        while self._queued and self._queued[0].due <= now:
            self._queued.pop(0).work(now)

    def __len__(self) -> int:
        return len(self._queued)
