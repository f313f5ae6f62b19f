"""Where state and the spool live: in Redis when `redis_url` is set, so replicas share
them; else in SQLite files beside each other that every worker of one host shares; else
(no state file configured) the state in this process's memory."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from proxy.config import Settings
from proxy.engine.state import IMMUTABLE
from proxy.redis_backend.budget import RedisBudget
from proxy.redis_backend.client import connect
from proxy.redis_backend.spool import RedisSpool
from proxy.redis_backend.state import RedisValues
from proxy.redis_backend.usage import RedisUsage
from proxy.spool.records import DeadLetterLimits, Spool
from proxy.spool.sqlite import SQLiteSpool
from proxy.staging.usage import MemoryUsage
from proxy.state.front import Fronted
from proxy.state.memory import MemoryValues
from proxy.state.sqlite import SQLiteFile, SQLiteValues
from proxy.state.sqlite_budget import SQLiteBudget
from proxy.state.sqlite_usage import SQLiteUsage
from proxy.state.store import State
from proxy.upstream.budget import LocalBudget


def state_for(settings: Settings) -> State:
    if settings.redis_url:
        client = connect(settings.redis_url)
        return State(Fronted(RedisValues(client), IMMUTABLE), RedisBudget(client), RedisUsage(client), "redis")
    if settings.state_path is not None:
        file = SQLiteFile(settings.state_path)
        values = Fronted(SQLiteValues(file), IMMUTABLE)
        return State(values, SQLiteBudget(file), SQLiteUsage(file), f"sqlite {settings.state_path}")
    return memory_state()


def memory_state() -> State:
    return State(MemoryValues(), LocalBudget(), MemoryUsage(), "process memory")


def spool_opener(settings: Settings, *, exclusive: bool = True) -> Callable[[], Awaitable[Spool]]:
    """Opens the configured spool when called; `exclusive` for the delivering process."""
    limits = DeadLetterLimits(settings.spool_dead_max, settings.spool_dead_max_age)
    if settings.redis_url:
        url = settings.redis_url
        return lambda: RedisSpool.open(url, settings.spool_lease, limits)
    return lambda: SQLiteSpool.open(settings.spool_path, exclusive=exclusive, dead_limits=limits)
