"""Where the rate budget and the spool live: in this process (and a SQLite file), or in
Redis when `redis_url` is set, so replicas share them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from proxy.config import Settings
from proxy.redis_backend.budget import RedisBudget
from proxy.redis_backend.client import connect
from proxy.redis_backend.spool import RedisSpool
from proxy.spool.records import DeadLetterLimits, Spool
from proxy.spool.sqlite import SQLiteSpool
from proxy.upstream.budget import Budget, LocalBudget


def budget_for(settings: Settings) -> Budget:
    if not settings.redis_url:
        return LocalBudget()
    return RedisBudget(connect(settings.redis_url))


def spool_opener(settings: Settings, *, exclusive: bool = True) -> Callable[[], Awaitable[Spool]]:
    """Opens the configured spool when called; `exclusive` for the delivering process."""
    limits = DeadLetterLimits(settings.spool_dead_max, settings.spool_dead_max_age)
    if settings.redis_url:
        url = settings.redis_url
        return lambda: RedisSpool.open(url, settings.spool_lease, limits)
    return lambda: SQLiteSpool.open(settings.spool_path, exclusive=exclusive, dead_limits=limits)
