"""The spool's life inside the app: opened at start-up with its delivery worker; at
shutdown the worker drains what it can in the time allowed, and the rest stays stored
for the next start."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import structlog
from aiohttp import web

from proxy.config import Settings
from proxy.engine.declared import EntryClient
from proxy.spool.admission import AdmittingSpool
from proxy.spool.batching import bulk_thresholds
from proxy.spool.intake import SPOOLED_KINDS, accepted
from proxy.spool.records import Spool
from proxy.spool.worker import DeliveryWorker, WorkerSettings
from proxy.upstream.client import Call, Credentials, UpstreamClient
from proxy.upstream.tiers import TierTable


log = structlog.get_logger("proxy.spool")


def credentials_for(settings: Settings) -> Callable[[str], Credentials]:
    """A spooled write's credentials, from the token it came with: the sidecar key, else
    the key configured for that token, else the token itself (public endpoints)."""

    def resolve(token: str) -> Credentials:
        key = settings.private_key or settings.token_keys.get(token)
        return Credentials(private_key=key) if key else Credentials(public_key=token)

    return resolve


class SpoolService:
    """The spool while the app runs, and the engine's delivery when `delivery=spool`."""

    def __init__(
        self, settings: Settings, upstream: UpstreamClient, tiers: TierTable, open_spool: Callable[[], Awaitable[Spool]]
    ) -> None:
        self._settings = settings
        self._upstream = upstream
        self._tiers = tiers
        self._open_spool = open_spool
        self.spool: Spool | None = None
        self._intake: AdmittingSpool | None = None
        self._healthy = True

    async def lifecycle(self, _app: web.Application) -> AsyncIterator[None]:
        """For `app.cleanup_ctx`."""
        spool = await self._open_spool()
        settings = self._settings
        worker = DeliveryWorker(
            spool,
            self._upstream,
            credentials_for(settings),
            bulk_thresholds(self._tiers),
            WorkerSettings(settings.spool_linger, settings.spool_max_backoff, settings.spool_drain_timeout),
        )
        worker.start()
        self.spool = spool
        self._intake = AdmittingSpool(spool, settings.token_keys, settings.spool_max_bytes)
        try:
            yield
        finally:
            self.spool = self._intake = None  # stop accepting; in-flight requests finished before cleanup
            await worker.stop()
            await spool.close()

    async def deliver(self, client: EntryClient, call: Call, credentials: Credentials, received_at_ns: int) -> None:
        """Store the write durably (answered once stored); a write the spool cannot carry,
        or one arriving while the spool is closed, is sent now."""
        kind = SPOOLED_KINDS.get(call.path)
        if self._intake is None or kind is None or call.method != "POST":
            await client.send(call, credentials)
            return
        client.check(call)
        await self._intake.accept(accepted(kind, call.body, credentials.public_key or "", received_at_ns))

    async def health(self) -> dict[str, Any]:
        """What a probe may show: ok or not and the counts, never where the store lives
        (the failure itself goes to the log, once per change)."""
        if self.spool is None:
            return {"ok": False}
        try:
            status = await self.spool.status(time.time())
        except Exception as error:  # a probe answers whatever the store's failure is
            if self._healthy:
                log.warning("spool_unhealthy", error=f"{type(error).__name__}: {error}")
            self._healthy = False
            return {"ok": False}
        if not self._healthy:
            log.info("spool_healthy_again")
        self._healthy = True
        return {"ok": True, "pending": status.pending, "oldest_age": status.oldest_age, "dead": status.dead}
