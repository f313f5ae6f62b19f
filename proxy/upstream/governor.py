"""The rate governor: a transport wrapper that spends each account's per-operation budget
before a request leaves, instead of letting legacy bursts hammer upstream into 429s.

A request waits for budget up to `max_wait` seconds; past that it fails at once with
`UpstreamThrottled`, which the edge answers as a legacy 429 with `Retry-After`. A request
that may not wait (`UpstreamRequest.may_wait`) is sent only if budget is free now. A query
that selects a lower tier (`additional-fields[list]=profile_count`) spends that tier's own
budget, not the operation's. Every
answer's `RateLimit-*` headers and a 429's `Retry-After` correct the budget.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable

from proxy import metrics
from proxy.newapi.errors import UpstreamThrottled
from proxy.newapi.messages import UpstreamRequest, UpstreamResponse
from proxy.newapi.transport import Transport
from proxy.openapi.spec import RateLimit
from proxy.upstream.accounts import Accounts
from proxy.upstream.budget import Budget, Feedback
from proxy.upstream.tiers import TierTable

# Wake a hair after the window turns, so the clock has surely moved into it.
_WAKE_MARGIN = 0.002


def feedback_of(response: UpstreamResponse) -> Feedback:
    return Feedback(
        limit=_number(response.header("RateLimit-Limit"), int),
        remaining=_number(response.header("RateLimit-Remaining"), int),
        reset=_number(response.header("RateLimit-Reset"), float),
        retry_after=_number(response.header("Retry-After"), float) if response.status == 429 else None,
    )


def _number(text: str | None, kind: type[int] | type[float]) -> int | float | None:
    try:
        return kind(text.split(",")[0].strip()) if text else None
    except ValueError:
        return None


class GovernedTransport:
    def __init__(
        self,
        inner: Transport,
        tiers: TierTable,
        budget: Budget,
        *,
        max_wait: float,
        accounts: Accounts | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._inner = inner
        self._tiers = tiers
        self._budget = budget
        self._max_wait = max_wait
        self._accounts = accounts or Accounts()
        self._clock = clock
        self._sleep = sleep

    async def send(self, request: UpstreamRequest) -> UpstreamResponse:
        matched = self._tiers.tier_of(request)
        if matched is None:  # not an operation of the pinned revision: nothing to count against
            return await self._inner.send(request)
        operation, limit = matched
        key = f"{self._accounts.of_request(request)}|{operation}"
        await self._admit(key, operation, limit, self._max_wait if request.may_wait else 0.0)
        response = await self._inner.send(request)
        await self._budget.observe(key, limit, feedback_of(response), self._clock())
        return response

    async def _admit(self, key: str, operation: str, limit: RateLimit, max_wait: float) -> None:
        started = self._clock()
        while (wait := await self._budget.reserve(key, limit, self._clock())) > 0:
            if self._clock() - started + wait > max_wait:
                metrics.GOVERNOR_REFUSALS.labels(operation).inc()
                raise UpstreamThrottled(429, [], operation, max(1, math.ceil(wait)))
            await self._sleep(wait + _WAKE_MARGIN)
        metrics.child(metrics.GOVERNOR_WAIT_SECONDS, operation).observe(self._clock() - started)

    async def aclose(self) -> None:
        await self._inner.aclose()  # the budget belongs to the state store, which closes it
