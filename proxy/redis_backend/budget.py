"""The rate budget in Redis, so every replica spends one account's budget together.

The same fixed windows and corrections as `proxy.upstream.budget.LocalBudget`, done by
Lua scripts so check-and-take is atomic across replicas, and timed by Redis's own clock
so replicas whose clocks differ still agree on the windows.
"""

from __future__ import annotations

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

from proxy.openapi.spec import RateLimit
from proxy.upstream.budget import LANDING_MARGIN, MINUTE, Feedback, windows
from proxy.newapi.errors import SharedStateUnavailable

log = structlog.get_logger("proxy")

PREFIX = "klp:rate:"

# KEYS[1]: the key's prefix. ARGV: landing margin, then (window length, cap) pairs.
# Returns "0" when taken, else the seconds to wait (as a string: Lua numbers would be
# truncated to integers on the way out).
_RESERVE = """
local time = redis.call('TIME')
local now = tonumber(time[1]) + tonumber(time[2]) / 1000000
local prefix = KEYS[1]
local blocked = tonumber(redis.call('GET', prefix .. ':blocked') or '0')
if now < blocked then return tostring(blocked - now) end
local learned = redis.call('GET', prefix .. ':cap')
local margin = tonumber(ARGV[1])
local slots, wait = {}, 0
for i = 2, #ARGV, 2 do
  local length, cap = tonumber(ARGV[i]), tonumber(ARGV[i + 1])
  if length == %(minute)d and learned then cap = tonumber(learned) end
  for number = math.floor(now / length), math.floor((now + margin) / length) do
    local key = prefix .. ':' .. length .. ':' .. number
    if tonumber(redis.call('GET', key) or '0') >= cap then
      wait = math.max(wait, (number + 1) * length - now)
    end
    slots[#slots + 1] = {key, length}
  end
end
if wait > 0 then return tostring(wait) end
for _, slot in ipairs(slots) do
  redis.call('INCR', slot[1])
  redis.call('EXPIRE', slot[1], slot[2] * 2 + 1)
end
return '0'
""" % {"minute": MINUTE}

# KEYS[1]: the key's prefix. ARGV: retry_after, limit, remaining, reset ("" when absent),
# the spec's steady cap.
_OBSERVE = """
local time = redis.call('TIME')
local now = tonumber(time[1]) + tonumber(time[2]) / 1000000
local prefix = KEYS[1]
local retry_after, limit, remaining, reset = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local function block_until(moment)
  local blocked = tonumber(redis.call('GET', prefix .. ':blocked') or '0')
  if moment > blocked then
    redis.call('SET', prefix .. ':blocked', tostring(moment), 'EX', math.ceil(moment - now) + 1)
  end
end
if retry_after then block_until(now + retry_after) end
if limit then redis.call('SET', prefix .. ':cap', limit, 'EX', 3600) end
if remaining then
  local cap = limit or tonumber(redis.call('GET', prefix .. ':cap') or ARGV[5])
  local key = prefix .. ':%(minute)d:' .. math.floor(now / %(minute)d)
  if cap - remaining > tonumber(redis.call('GET', key) or '0') then
    redis.call('SET', key, cap - remaining, 'EX', %(minute)d * 2 + 1)
  end
  if remaining <= 0 and reset then block_until(now + reset) end
end
return 1
""" % {"minute": MINUTE}


class RedisBudget:
    def __init__(self, client: Redis) -> None:
        self._client = client
        self._reserve = client.register_script(_RESERVE)
        self._observe = client.register_script(_OBSERVE)

    async def reserve(self, key: str, limit: RateLimit, now: float) -> float:
        """Without Redis no call is sent: the budget other replicas share cannot be checked
        (`SharedStateUnavailable`, a legacy 503 with `Retry-After`). Redis's client
        reconnects by itself on the next call once Redis is back."""
        pairs = [str(number) for pair in windows(limit) for number in pair]
        try:
            return float(await self._reserve(keys=[PREFIX + key], args=[str(LANDING_MARGIN), *pairs]))
        except RedisError as error:
            raise SharedStateUnavailable(f"rate budget: {type(error).__name__}") from None

    async def observe(self, key: str, limit: RateLimit, feedback: Feedback, now: float) -> None:
        """A correction lost to a Redis outage is only a correction: the call it came
        from already succeeded, so the failure is logged, not raised."""
        if feedback == Feedback():
            return
        values = (feedback.retry_after, feedback.limit, feedback.remaining, feedback.reset)
        try:
            await self._observe(keys=[PREFIX + key], args=[*("" if v is None else str(v) for v in values), str(limit.steady)])
        except RedisError as error:
            log.warning("rate_budget_feedback_lost", error=type(error).__name__)

    async def aclose(self) -> None:
        await self._client.aclose()
