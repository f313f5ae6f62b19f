"""The spool in Redis, shared by every replica: a stream read through one consumer
group, so any replica delivers any write and each write has one owner at a time.

- accept: XADD, group-committed into one pipeline (durable when Redis runs with
  `appendonly yes` and `appendfsync always`, as deploy/compose.yaml does);
- claim: entries nobody has read, and entries a silent replica has held longer than
  the lease (XAUTOCLAIM), so a dead replica's writes are delivered by the others;
- postpone: the entry leaves the stream for a sorted set scored by when it is due, and
  comes back to the stream when due; bury: it leaves for the dead-letter hash. Each move
  is one MULTI, so an entry is always in exactly one place.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Sequence
from typing import Any

import orjson
from redis.asyncio import Redis
from redis.exceptions import RedisError, ResponseError

from proxy import metrics
from proxy.spool.group_commit import GroupCommit
from proxy.spool.records import Accepted, SpoolError, Status, Stored

STREAM = "klp:spool:stream"
GROUP = "klp-delivery"
DELAYED = "klp:spool:delayed"
DEAD = "klp:spool:dead"

# Moves due entries from the delayed set back to the stream. ARGV: how many at most.
_RELEASE_DUE = """
local time = redis.call('TIME')
local now = tonumber(time[1]) + tonumber(time[2]) / 1000000
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
for _, member in ipairs(due) do
  local entry = cjson.decode(member)
  redis.call('XADD', KEYS[2], '*', 'kind', entry.kind, 'token', entry.token, 'body', entry.body,
             'received_at', entry.received_at, 'attempts', entry.attempts)
  redis.call('ZREM', KEYS[1], member)
end
return #due
"""

# Puts every dead letter back in the stream. Returns how many.
_REVIVE = """
local letters = redis.call('HVALS', KEYS[1])
for _, letter in ipairs(letters) do
  local entry = cjson.decode(letter)
  redis.call('XADD', KEYS[2], '*', 'kind', entry.kind, 'token', entry.token, 'body', entry.body,
             'received_at', entry.received_at, 'attempts', 0)
end
redis.call('DEL', KEYS[1])
return #letters
"""


class RedisSpool:
    def __init__(self, client: Redis, lease: float) -> None:
        self._client = client
        self._lease_ms = int(lease * 1000)
        self._consumer = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._held: dict[str, Stored] = {}  # read by this replica, not yet settled
        self._out: set[str] = set()  # handed to the worker, not yet settled
        self._writes: GroupCommit[Accepted] = GroupCommit(self._commit)
        self._release_due = client.register_script(_RELEASE_DUE)
        self._revive = client.register_script(_REVIVE)

    @classmethod
    async def open(cls, url: str, lease: float) -> RedisSpool:
        client = Redis.from_url(url)
        try:
            await client.xgroup_create(STREAM, GROUP, id="0", mkstream=True)
        except ResponseError as error:
            if "BUSYGROUP" not in str(error):  # the group exists: another replica made it
                await client.aclose()
                raise SpoolError(f"spool at {_where(url)}: {error}") from None
        except RedisError as error:
            await client.aclose()
            raise SpoolError(f"spool at {_where(url)}: cannot connect: {error}") from None
        return cls(client, lease)

    async def accept(self, item: Accepted) -> None:
        await self._writes.submit(item)
        metrics.SPOOL_ACCEPTED.labels(item.kind).inc()

    async def _commit(self, items: list[Accepted]) -> None:
        pipeline = self._client.pipeline(transaction=False)
        for item in items:
            pipeline.xadd(STREAM, _fields(item, attempts=0))
        await pipeline.execute()

    async def claim(self, limit: int, now: float, received_before: float) -> list[Stored]:
        await self._release_due(keys=[DELAYED, STREAM], args=[limit])
        _, stale, _ = await self._client.xautoclaim(STREAM, GROUP, self._consumer, self._lease_ms, "0-0", count=limit)
        fresh = await self._client.xreadgroup(GROUP, self._consumer, {STREAM: ">"}, count=limit)
        for entry_id, fields in [*stale, *(entry for _, entries in fresh for entry in entries)]:
            key = entry_id.decode()
            self._held.setdefault(key, _stored(key, fields))
        claimed = sorted(
            (
                stored
                for stored in self._held.values()
                if stored.id not in self._out and stored.item.received_at <= received_before
            ),
            key=lambda stored: _order(stored.id),
        )[:limit]
        self._out.update(stored.id for stored in claimed)
        return claimed

    async def complete(self, ids: Sequence[str]) -> None:
        if ids:
            pipeline = self._client.pipeline(transaction=True)
            pipeline.xack(STREAM, GROUP, *ids).xdel(STREAM, *ids)
            await pipeline.execute()
        self._settled(ids)

    async def postpone(self, ids: Sequence[str], until: float) -> None:
        pipeline = self._client.pipeline(transaction=True)
        for key in ids:
            stored = self._held[key]
            entry = {**_fields(stored.item, stored.attempts + 1), "id": key}
            pipeline.zadd(DELAYED, {orjson.dumps(entry): until})
        await self._settle_with(pipeline, ids)

    async def bury(self, ids: Sequence[str], reason: str, now: float) -> None:
        pipeline = self._client.pipeline(transaction=True)
        for key in ids:
            stored = self._held[key]
            letter = {**_fields(stored.item, stored.attempts + 1), "failed_at": now, "reason": reason}
            pipeline.hset(DEAD, key, orjson.dumps(letter))
        await self._settle_with(pipeline, ids)

    async def _settle_with(self, pipeline: Any, ids: Sequence[str]) -> None:
        if ids:
            pipeline.xack(STREAM, GROUP, *ids).xdel(STREAM, *ids)
            await pipeline.execute()
        self._settled(ids)

    def _settled(self, ids: Sequence[str]) -> None:
        for key in ids:
            self._held.pop(key, None)
            self._out.discard(key)

    async def status(self, now: float) -> Status:
        pipeline = self._client.pipeline(transaction=False)
        pipeline.xlen(STREAM).zcard(DELAYED).xrange(STREAM, count=1).zrange(DELAYED, 0, 0).hvals(DEAD)
        waiting, delayed, head, next_due, letters = await pipeline.execute()
        received = [float(fields[b"received_at"]) for _, fields in head]
        received += [float(orjson.loads(member)["received_at"]) for member in next_due]
        reasons: dict[str, int] = {}
        for letter in letters:
            reason = orjson.loads(letter)["reason"]
            reasons[reason] = reasons.get(reason, 0) + 1
        return Status(
            pending=waiting + delayed,
            oldest_age=max(0.0, now - min(received)) if received else None,
            dead=len(letters),
            dead_reasons=tuple(sorted(reasons.items(), key=lambda pair: -pair[1])),
        )

    async def retry_dead(self) -> int:
        return int(await self._revive(keys=[DEAD, STREAM]))

    async def purge_dead(self) -> int:
        pipeline = self._client.pipeline(transaction=True)
        pipeline.hlen(DEAD).delete(DEAD)
        count, _ = await pipeline.execute()
        return int(count)

    async def close(self) -> None:
        """Hand back what this replica read but did not settle, so others need not wait
        out the lease, then leave the group."""
        await self._writes.flush()
        if self._held:
            pipeline = self._client.pipeline(transaction=True)
            for stored in self._held.values():
                pipeline.xadd(STREAM, _fields(stored.item, stored.attempts))
            await self._settle_with(pipeline, list(self._held))
        await self._client.xgroup_delconsumer(STREAM, GROUP, self._consumer)
        await self._client.aclose()


def _fields(item: Accepted, attempts: int) -> dict[str, Any]:
    return {
        "kind": item.kind,
        "token": item.token,
        "body": item.body.decode(),
        "received_at": repr(item.received_at),
        "attempts": attempts,
    }


def _stored(key: str, fields: dict[bytes, bytes]) -> Stored:
    item = Accepted(
        kind=fields[b"kind"].decode(),
        token=fields[b"token"].decode(),
        body=fields[b"body"],
        received_at=float(fields[b"received_at"]),
    )
    return Stored(key, item, int(fields[b"attempts"]))


def _order(entry_id: str) -> tuple[int, int]:
    milliseconds, _, sequence = entry_id.partition("-")
    return int(milliseconds), int(sequence)


def _where(url: str) -> str:
    """The URL without its password, for messages."""
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.rpartition('@')[2]}"
