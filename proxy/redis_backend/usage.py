"""The usage inventory in Redis: one hash of counters per route × key (HINCRBY adds up
every replica's counts) and a sorted set of rows by last call, which bounds them."""

from __future__ import annotations

from collections.abc import Sequence

from redis.asyncio import Redis

from proxy.staging.usage import IDLE_SECONDS, MAX_ROWS, RouteUsage, folded

INDEX = "klp:usage:rows"
ROW = "klp:usage:row:"
SEPARATOR = "\x1f"  # between route and key in a row's name: neither contains it


class RedisUsage:
    def __init__(self, client: Redis) -> None:
        self._client = client

    async def merge(self, rows: Sequence[RouteUsage], now: float) -> None:
        client = self._client
        await self._forget_idle(now)
        names = [f"{row.route}{SEPARATOR}{row.key}" for row in rows]
        known = await client.zmscore(INDEX, names) if names else []
        tracked = await client.zcard(INDEX)
        async with client.pipeline(transaction=False) as pipe:
            for row, name, score in zip(rows, names, known):
                if score is None and tracked >= MAX_ROWS:
                    name = f"{row.route}{SEPARATOR}{folded()}"
                elif score is None:
                    tracked += 1
                fields = {"calls": row.calls}
                fields.update({f"s:{status}": n for status, n in row.statuses.items()})
                fields.update({f"o:{operation}": n for operation, n in row.operations.items()})
                fields.update({f"l:{bucket}": n for bucket, n in row.latencies.items()})
                for field, amount in fields.items():
                    pipe.hincrby(ROW + name, field, amount)
                pipe.zadd(INDEX, {name: row.last_seen}, gt=True)  # adds new rows too
            await pipe.execute()

    async def _forget_idle(self, now: float) -> None:
        idle = await self._client.zrangebyscore(INDEX, "-inf", now - IDLE_SECONDS)
        if idle:
            await self._client.delete(*(ROW + name.decode() for name in idle))
            await self._client.zrem(INDEX, *idle)

    async def rows(self) -> list[RouteUsage]:
        indexed = await self._client.zrange(INDEX, 0, -1, withscores=True)
        async with self._client.pipeline(transaction=False) as pipe:
            for name, _ in indexed:
                pipe.hgetall(ROW + name.decode())
            hashes = await pipe.execute()
        return [_row(name.decode(), last_seen, fields) for (name, last_seen), fields in zip(indexed, hashes) if fields]

    async def aclose(self) -> None:
        """The connection is closed by the budget that shares it."""


def _row(name: str, last_seen: float, fields: dict[bytes, bytes]) -> RouteUsage:
    route, _, key = name.partition(SEPARATOR)
    row = RouteUsage(route, key, last_seen=last_seen)
    for field, value in ((f.decode(), int(v)) for f, v in fields.items()):
        kind, _, name_ = field.partition(":")
        if field == "calls":
            row.calls = value
        elif kind == "s":
            row.statuses[name_] = value
        elif kind == "o":
            row.operations[name_] = value
        elif kind == "l":
            row.latencies[int(name_)] = value
    return row
