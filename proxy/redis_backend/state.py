"""The state store's values in Redis, shared by every replica: plain keys with a TTL
(`SET … PX`, `SET … NX PX` to claim, `INCR` + `PEXPIRE` to bump)."""

from __future__ import annotations

from collections.abc import Sequence

from redis.asyncio import Redis

PREFIX = "klp:state:"


class RedisValues:
    def __init__(self, client: Redis) -> None:
        self._client = client

    async def get(self, key: str) -> bytes | None:
        return await self._client.get(PREFIX + key)

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        return list(await self._client.mget([PREFIX + key for key in keys])) if keys else []

    async def put(self, key: str, value: bytes, ttl: float) -> None:
        await self._client.set(PREFIX + key, value, px=_ms(ttl))

    async def put_new(self, key: str, value: bytes, ttl: float) -> bool:
        return bool(await self._client.set(PREFIX + key, value, px=_ms(ttl), nx=True))

    async def bump(self, key: str, ttl: float) -> int:
        async with self._client.pipeline(transaction=True) as pipe:
            number, _ = await pipe.incr(PREFIX + key).pexpire(PREFIX + key, _ms(ttl)).execute()
        return int(number)

    async def aclose(self) -> None:
        """The connection is closed by the budget that shares it."""


def _ms(seconds: float) -> int:
    return max(1, round(seconds * 1000))
