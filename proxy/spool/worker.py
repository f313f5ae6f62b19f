"""The delivery worker: drains the spool through the upstream client (so every call is
governed, retried where safe and observed like any other).

Each round claims what is due, splits it into runs of one account and kind (in spool
order), plans the calls for each run and sends them. Upstream's answer settles the
writes: 2xx → done; 429 → back in line after `Retry-After`; 5xx or no answer → back in
line after a growing pause; any other 4xx → dead letters with the reason (a refused bulk
call is first split into single calls, so one bad write does not bury its batch).

A bulk profile import's 202 only says the job was queued: its writes are done once the
job is complete, and exactly the profiles it refused (its import errors) go to the dead
letters (`proxy.spool.import_jobs`). The round waits for its jobs, so identifies that
arrive meanwhile gather into the next, larger job. A bulk events call has no job to read
(the spec gives it no id or status): its 202 is all Klaviyo ever says, and a refusal of the
whole call is split into single calls as above, so only the refused events are buried.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import structlog

from proxy import metrics
from proxy.newapi.errors import UpstreamError, UpstreamRejected, UpstreamServerError, UpstreamThrottled
from proxy.spool import batching, import_jobs
from proxy.spool.batching import Delivery
from proxy.spool.records import PROFILE, Spool, Stored
from proxy.upstream.client import Credentials, Reply, UpstreamClient

log = structlog.get_logger("proxy.spool")

CLAIM_LIMIT = 5000
CONCURRENT_CALLS = 32
IDLE_POLL = 0.1
STATUS_EVERY = 1.0


@dataclass(frozen=True)
class WorkerSettings:
    linger: float  # seconds a write waits so it can share a batch
    max_backoff: float  # longest pause before trying a failed write again
    drain_timeout: float  # how long a stopping worker keeps delivering


class DeliveryWorker:
    def __init__(
        self,
        spool: Spool,
        upstream: UpstreamClient,
        credentials_for: Callable[[str], Credentials],
        thresholds: dict[str, int],
        settings: WorkerSettings,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._spool = spool
        self._upstream = upstream
        self._credentials_for = credentials_for
        self._thresholds = thresholds
        self._settings = settings
        self._clock = clock
        self._slots = asyncio.Semaphore(CONCURRENT_CALLS)
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._status_at = 0.0

    def start(self) -> None:
        self._task = asyncio.create_task(self.run())

    async def stop(self) -> None:
        """Deliver what is due for up to the drain timeout, then leave the rest on disk."""
        self._stopping.set()
        if self._task is None:
            return
        try:
            await asyncio.wait_for(self._task, self._settings.drain_timeout)
        except asyncio.TimeoutError:
            log.warning("spool_drain_timeout", seconds=self._settings.drain_timeout)

    async def run(self) -> None:
        failures = 0  # rounds failed in a row: the store (Redis, the disk) is failing
        while True:
            draining = self._stopping.is_set()
            try:
                delivered = await self._round(draining)
            except Exception:  # keep the worker alive; log the first failure, not every retry
                if failures == 0:
                    log.exception("spool_round_failed")
                failures += 1
                if draining:
                    return
                await self._pause(min(self._settings.max_backoff, IDLE_POLL * 2**failures))
                continue
            if failures:
                log.info("spool_store_recovered", failed_rounds=failures)
                failures = 0
            if draining and not delivered:
                return
            if not delivered:
                await self._pause(IDLE_POLL)

    async def _round(self, draining: bool) -> bool:
        """Deliver what is due; False when nothing was."""
        now = self._clock()
        claimed = await self._spool.claim(CLAIM_LIMIT, now, now if draining else now - self._settings.linger)
        if claimed:
            renewing = asyncio.create_task(self._renew_while_delivering([stored.id for stored in claimed]))
            try:
                await self.deliver(claimed)
            finally:
                renewing.cancel()
        await self._report_status()
        return bool(claimed)

    async def deliver(self, claimed: Sequence[Stored]) -> None:
        runs: dict[tuple[str, str], list[Stored]] = {}
        for stored in claimed:  # spool order within each account and kind
            runs.setdefault((stored.item.token, stored.item.kind), []).append(stored)
        deliveries = [
            delivery
            for (token, kind), run in runs.items()
            for delivery in batching.plan(run, kind, self._private(token), self._thresholds[kind])
        ]
        await asyncio.gather(*(self._send(delivery) for delivery in deliveries))

    async def _renew_while_delivering(self, ids: list[str]) -> None:
        """Keep the claim on a round's writes while it runs, so a slow upstream does not
        hand them to another replica (whose delivery would repeat them)."""
        every = self._spool.renew_every
        if every is None:
            return
        while True:
            await asyncio.sleep(every)
            try:
                await self._spool.renew(ids)
            except Exception as error:  # the store is failing; the round's own calls will say so
                log.warning("spool_lease_renewal_failed", error=f"{type(error).__name__}: {error}")

    def _private(self, token: str) -> bool:
        return self._credentials_for(token).private_key is not None

    async def _send(self, delivery: Delivery) -> None:
        credentials = self._credentials_for(delivery.stored[0].item.token)
        async with self._slots:
            outcome = await self._attempt(delivery, credentials)
        if isinstance(outcome, Reply):
            if delivery.bulk and delivery.kind == PROFILE:
                await self._settle_import(delivery, credentials, outcome)
            else:
                await self._complete(delivery)
        elif isinstance(outcome, UpstreamThrottled):
            await self._spool.postpone(delivery.ids, self._clock() + outcome.retry_after)
        elif isinstance(outcome, UpstreamRejected) and not isinstance(outcome, UpstreamServerError):
            if delivery.bulk and len(delivery.stored) > 1:
                await self._send_singly(delivery, credentials)
            else:
                await self._bury(delivery, f"{outcome.status} {outcome.code or 'error'}: {outcome.detail}".strip())
        else:  # 5xx, no answer: upstream may take it later
            await self._retry_later(delivery, str(outcome))

    async def _attempt(self, delivery: Delivery, credentials: Credentials) -> Reply | UpstreamError:
        try:
            return await self._upstream.send(delivery.call, credentials)
        except UpstreamError as failure:
            return failure

    async def _send_singly(self, delivery: Delivery, credentials: Credentials) -> None:
        singles = batching.singles(delivery, credentials.private_key is not None)
        await asyncio.gather(*(self._send(single) for single in singles))

    async def _settle_import(self, delivery: Delivery, credentials: Credentials, accepted: Reply) -> None:
        """Done when the import job is complete; its refused profiles become dead letters."""
        job_id = ((accepted.document or {}).get("data") or {}).get("id")
        if not job_id:  # nothing to read back: let single upserts say what Klaviyo takes
            await self._send_singly(delivery, credentials)
            return
        finished = await import_jobs.wait_for(self._upstream, credentials, job_id)
        if finished is None or finished.status != "complete":
            await self._retry_later(delivery, f"profile import job {job_id} {finished.status if finished else 'unfinished'}")
            return
        reasons: dict[int, str] | None = {}
        if finished.failed:
            sent = delivery.call.body["data"]["attributes"]["profiles"]["data"]
            try:
                reasons = import_jobs.refused(await import_jobs.import_errors(self._upstream, credentials, job_id), sent, finished.failed)
            except UpstreamError:
                reasons = None
        if reasons is None:  # the refused writes cannot be told apart
            await self._send_singly(delivery, credentials)
            return
        imported = [stored for index, stored in enumerate(delivery.stored) if index not in reasons]
        if imported:
            await self._complete(replace(delivery, stored=tuple(imported)))
        for reason in dict.fromkeys(reasons.values()):
            refused = tuple(stored for index, stored in enumerate(delivery.stored) if reasons.get(index) == reason)
            await self._bury(replace(delivery, stored=refused), reason)

    async def _complete(self, delivery: Delivery) -> None:
        self._delivered(delivery)
        await self._spool.complete(delivery.ids)

    async def _retry_later(self, delivery: Delivery, failure: str) -> None:
        attempts = max(stored.attempts for stored in delivery.stored)
        pause = min(self._settings.max_backoff, 2**attempts) * (0.5 + random.random() / 2)
        log.info("spool_delivery_failed", kind=delivery.kind, writes=len(delivery.stored), error=failure, retry_in=round(pause, 2))
        await self._spool.postpone(delivery.ids, self._clock() + pause)

    async def _bury(self, delivery: Delivery, reason: str) -> None:
        log.warning("spool_dead_letter", kind=delivery.kind, writes=len(delivery.stored), reason=reason)
        metrics.SPOOL_DEAD_LETTERED.labels(delivery.kind).inc(len(delivery.stored))
        await self._spool.bury(delivery.ids, reason, self._clock())

    def _delivered(self, delivery: Delivery) -> None:
        now = self._clock()
        metrics.SPOOL_DELIVERED.labels(delivery.kind, "bulk" if delivery.bulk else "single").inc(len(delivery.stored))
        lag = metrics.SPOOL_DELIVERY_LAG.labels(delivery.kind)
        for stored in delivery.stored:
            lag.observe(now - stored.item.received_at)

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

    async def _report_status(self) -> None:
        now = self._clock()
        if now - self._status_at < STATUS_EVERY:
            return
        self._status_at = now
        status = await self._spool.status(now)
        metrics.SPOOL_DEPTH.set(status.pending)
        metrics.SPOOL_OLDEST_SECONDS.set(status.oldest_age or 0)
        metrics.SPOOL_DEAD.set(status.dead)
