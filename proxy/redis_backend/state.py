"""The state store's values in Redis, shared by every replica: plain keys with a TTL
(`SET … PX`, `SET … NX PX` to claim, `INCR` + `PEXPIRE` to bump)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from redis.asyncio import Redis
from redis.exceptions import RedisError

from proxy.newapi.errors import SharedStateUnavailable

PREFIX = "klp:state:"


class RedisValues:
    def __init__(self, client: Redis) -> None:
        self._client = client

    async def get(self, key: str) -> bytes | None:
        with _outage():
            return await self._client.get(PREFIX + key)

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        with _outage():
            return list(await self._client.mget([PREFIX + key for key in keys])) if keys else []

    async def get_many_expiring(self, keys: Sequence[str]) -> list[tuple[bytes, float] | None]:
        """Each live value with the seconds it has left, or None: one round trip."""
        if not keys:
            return []
        with _outage():
            async with self._client.pipeline(transaction=True) as pipe:
                pipe.mget([PREFIX + key for key in keys])
                for key in keys:
                    pipe.pttl(PREFIX + key)
                values, *left = await pipe.execute()
        return [(value, ms / 1000) if value is not None and ms > 0 else None for value, ms in zip(values, left)]

    async def put(self, key: str, value: bytes, ttl: float) -> None:
        with _outage():
            await self._client.set(PREFIX + key, value, px=_ms(ttl))

    async def put_new(self, key: str, value: bytes, ttl: float) -> bool:
        with _outage():
            return bool(await self._client.set(PREFIX + key, value, px=_ms(ttl), nx=True))

    async def bump(self, key: str, ttl: float) -> int:
        with _outage():
            async with self._client.pipeline(transaction=True) as pipe:
                number, _ = await pipe.incr(PREFIX + key).pexpire(PREFIX + key, _ms(ttl)).execute()
        return int(number)

    async def aclose(self) -> None:
        """The connection is closed by the budget that shares it."""


@contextmanager
def _outage() -> Iterator[None]:
    """Redis unreachable: the engine answers the legacy 503 (`proxy.engine.failures`), as
    for the shared rate budget; a marker or snapshot is never silently lost."""
    try:
        yield
    except RedisError as error:
        raise SharedStateUnavailable(f"state store: {type(error).__name__}") from None


def _ms(seconds: float) -> int:
    return max(1, round(seconds * 1000))
