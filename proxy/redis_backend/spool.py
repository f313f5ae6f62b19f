"""The spool in Redis, shared by every replica: a stream read through one consumer
group, so any replica delivers any write and each write has one owner at a time.

- accept: XADD, group-committed into one pipeline (durable when Redis runs with
  `appendonly yes` and `appendfsync always`, as deploy/compose.yaml does);
- claim: entries nobody has read, and entries a silent replica has held longer than
  the lease (XAUTOCLAIM), so a dead replica's writes are delivered by the others;
- postpone: the entry leaves the stream for a sorted set scored by when it is due, and
  comes back to the stream when due; bury: it leaves for the dead-letter hash (indexed
  by time in a sorted set, so the oldest letters past `DeadLetterLimits` are dropped).
  Each move is one MULTI, so an entry is always in exactly one place;
- while a replica delivers what it claimed, its worker renews the lease every third of
  it (`renew`), so a slow delivery is not re-sent by another replica;
- a counter holds the bytes of bodies waiting, for the spool's size limit.

Redis unreachable: `accept` raises `SpoolRefused` (track and identify answer `0`); the
worker's rounds fail and back off until Redis answers again, then go on by themselves.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
import uuid
from collections.abc import Sequence
from typing import Any

import orjson
import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError, ResponseError

from proxy import metrics
from proxy.spool.group_commit import GroupCommit
from proxy.spool.records import Accepted, DeadLetterLimits, SpoolError, SpoolRefused, Status, Stored
from proxy.redis_backend.client import connect
from proxy.spool.sqlite import report_dropped

STREAM = "klp:spool:stream"
GROUP = "klp-delivery"
DELAYED = "klp:spool:delayed"
DEAD = "klp:spool:dead"
DEAD_ORDER = "klp:spool:dead:order"  # dead-letter ids scored by when they were buried
BYTES = "klp:spool:bytes"  # bytes of bodies in the stream and the delayed set
BYTES_FRESH_FOR = 0.5  # seconds a read of BYTES serves `pending_bytes` before asking again

log = structlog.get_logger("proxy.spool")

# Resets the idle time of the entries this consumer still owns (another replica may have
# claimed one already: that one is left alone). KEYS[1]: stream. ARGV: group, consumer, ids.
_RENEW = """
local renewed = 0
for i = 3, #ARGV do
  local owned = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1, ARGV[2])
  if #owned == 1 then
    redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[i], 'JUSTID')
    renewed = renewed + 1
  end
end
return renewed
"""

# Drops dead letters older than a moment, then the oldest past a count.
# KEYS: hash, index. ARGV: oldest failed_at kept, most letters kept. Returns {by age, by count}.
_TRIM_DEAD = """
local old = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[1])
for _, id in ipairs(old) do redis.call('HDEL', KEYS[1], id) end
if #old > 0 then redis.call('ZREM', KEYS[2], unpack(old)) end
local excess = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[2])
local extra = {}
if excess > 0 then
  extra = redis.call('ZRANGE', KEYS[2], 0, excess - 1)
  for _, id in ipairs(extra) do redis.call('HDEL', KEYS[1], id) end
  redis.call('ZREM', KEYS[2], unpack(extra))
end
return {#old, #extra}
"""

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

# Puts every dead letter back in the stream. KEYS: hash, stream, index, bytes counter.
# Returns how many.
_REVIVE = """
local letters = redis.call('HVALS', KEYS[1])
for _, letter in ipairs(letters) do
  local entry = cjson.decode(letter)
  redis.call('XADD', KEYS[2], '*', 'kind', entry.kind, 'token', entry.token, 'body', entry.body,
             'received_at', entry.received_at, 'attempts', 0)
  redis.call('INCRBY', KEYS[4], string.len(entry.body))
end
redis.call('DEL', KEYS[1], KEYS[3])
return #letters
"""


class RedisSpool:
    def __init__(self, client: Redis, lease: float, dead_limits: DeadLetterLimits = DeadLetterLimits()) -> None:
        self._client = client
        self._lease = lease
        self._dead_limits = dead_limits
        self._consumer = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._held: dict[str, Stored] = {}  # read by this replica, not yet settled
        self._out: set[str] = set()  # handed to the worker, not yet settled
        self._writes: GroupCommit[Accepted] = GroupCommit(self._commit)
        self._release_due = client.register_script(_RELEASE_DUE)
        self._revive = client.register_script(_REVIVE)
        self._renew = client.register_script(_RENEW)
        self._trim_dead = client.register_script(_TRIM_DEAD)
        self._bytes_read: tuple[float, int] = (-BYTES_FRESH_FOR, 0)  # (monotonic time, value)
        self._bytes_reading: asyncio.Future[int] | None = None

    @classmethod
    async def open(cls, url: str, lease: float, dead_limits: DeadLetterLimits = DeadLetterLimits()) -> RedisSpool:
        client = connect(url)
        try:
            await _create_group(client)
        except RedisError as error:
            await client.aclose()
            raise SpoolError(f"spool at {_where(url)}: cannot connect: {error}") from None
        return cls(client, lease, dead_limits)

    async def accept(self, item: Accepted) -> None:
        try:
            await self._writes.submit(item)
        except RedisError as error:
            raise SpoolRefused("unavailable", f"the spool's Redis cannot be reached ({type(error).__name__})") from None
        metrics.SPOOL_ACCEPTED.labels(item.kind).inc()

    async def pending_bytes(self) -> int:
        """The shared counter, read at most every `BYTES_FRESH_FOR` seconds: concurrent
        callers share one read (a burst of writes must not open a connection each)."""
        read_at, value = self._bytes_read
        if time.monotonic() - read_at <= BYTES_FRESH_FOR:
            return value
        if self._bytes_reading is None:
            self._bytes_reading = asyncio.ensure_future(self._read_bytes())
        reading = self._bytes_reading
        try:
            return await asyncio.shield(reading)
        except RedisError as error:
            raise SpoolRefused("unavailable", f"the spool's Redis cannot be reached ({type(error).__name__})") from None
        finally:
            if self._bytes_reading is reading and reading.done():
                self._bytes_reading = None

    async def _read_bytes(self) -> int:
        value = int(await self._client.get(BYTES) or 0)
        self._bytes_read = (time.monotonic(), value)
        return value

    async def _commit(self, items: list[Accepted]) -> None:
        pipeline = self._client.pipeline(transaction=True)
        for item in items:
            pipeline.xadd(STREAM, _fields(item, attempts=0))
        pipeline.incrby(BYTES, sum(len(item.body) for item in items))
        await pipeline.execute()

    async def claim(self, limit: int, now: float, received_before: float) -> list[Stored]:
        try:
            return await self._claim(limit, received_before)
        except ResponseError as error:
            if "NOGROUP" not in str(error):
                raise
            await _create_group(self._client)  # Redis came back without its data: start over
            return await self._claim(limit, received_before)

    async def _claim(self, limit: int, received_before: float) -> list[Stored]:
        await self._release_due(keys=[DELAYED, STREAM], args=[limit])
        lease_ms = int(self._lease * 1000)
        _, stale, _ = await self._client.xautoclaim(STREAM, GROUP, self._consumer, lease_ms, "0-0", count=limit)
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

    @property
    def renew_every(self) -> float:
        return self._lease / 3

    async def renew(self, ids: Sequence[str]) -> None:
        """Keep the lease on entries still being delivered (those another replica has
        claimed meanwhile are left to it)."""
        if ids:
            await self._renew(keys=[STREAM], args=[GROUP, self._consumer, *ids])

    async def complete(self, ids: Sequence[str]) -> None:
        if ids:
            pipeline = self._client.pipeline(transaction=True)
            pipeline.xack(STREAM, GROUP, *ids).xdel(STREAM, *ids)
            pipeline.decrby(BYTES, self._bytes_of(ids))
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
            pipeline.zadd(DEAD_ORDER, {key: now})
        pipeline.decrby(BYTES, self._bytes_of(ids))
        await self._settle_with(pipeline, ids)
        limits = self._dead_limits
        by_age, by_count = await self._trim_dead(keys=[DEAD, DEAD_ORDER], args=[now - limits.max_age, limits.max_count])
        report_dropped({"age": int(by_age), "count": int(by_count)})

    def _bytes_of(self, ids: Sequence[str]) -> int:
        return sum(len(self._held[key].item.body) for key in ids if key in self._held)

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
        pipeline.xlen(STREAM).zcard(DELAYED).xrange(STREAM, count=1).zrange(DELAYED, 0, 0).hvals(DEAD).get(BYTES)
        waiting, delayed, head, next_due, letters, pending_bytes = await pipeline.execute()
        metrics.SPOOL_BYTES.set(int(pending_bytes or 0))
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
        return int(await self._revive(keys=[DEAD, STREAM, DEAD_ORDER, BYTES]))

    async def purge_dead(self) -> int:
        pipeline = self._client.pipeline(transaction=True)
        pipeline.hlen(DEAD).delete(DEAD, DEAD_ORDER)
        count, _ = await pipeline.execute()
        return int(count)

    async def close(self) -> None:
        """Hand back what this replica read but did not settle, so others need not wait
        out the lease, then leave the group. With Redis unreachable the others take it
        over after the lease instead: nothing is lost, so shutdown goes on."""
        try:
            await self._writes.flush()
            if self._held:
                pipeline = self._client.pipeline(transaction=True)
                for stored in self._held.values():
                    pipeline.xadd(STREAM, _fields(stored.item, stored.attempts))
                await self._settle_with(pipeline, list(self._held))
            await self._client.xgroup_delconsumer(STREAM, GROUP, self._consumer)
        except RedisError as error:
            log.warning("spool_close_without_redis", held=len(self._held), error=type(error).__name__)
        finally:
            await self._client.aclose()


async def _create_group(client: Redis) -> None:
    try:
        await client.xgroup_create(STREAM, GROUP, id="0", mkstream=True)
    except ResponseError as error:
        if "BUSYGROUP" not in str(error):  # the group exists: another replica made it
            raise


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
