"""How the proxy connects to Redis."""

from __future__ import annotations

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError


def connect(url: str) -> Redis:
    """A client that fails fast while Redis is unreachable (it does not hang) and, once
    Redis is back, gets past connections the restart left dead by reconnecting at once."""
    return Redis.from_url(
        url,
        socket_connect_timeout=5.0,
        socket_timeout=10.0,
        retry=Retry(NoBackoff(), 1),
        retry_on_error=[ConnectionError],
    )
