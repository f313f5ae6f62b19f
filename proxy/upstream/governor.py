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
from proxy.upstream.budget import NO_FEEDBACK, Budget, Feedback
from proxy.upstream.tiers import TierTable

# Wake a hair after the window turns, so the clock has surely moved into it.
_WAKE_MARGIN = 0.002
_SHAPES_KEPT = 4096  # request shapes whose budget is remembered (paths and queries carry ids)
_UNSEEN = object()  # a shape not seen yet (None: seen, spends no budget)


def feedback_of(response: UpstreamResponse) -> Feedback:
    limit = response.header("RateLimit-Limit")
    remaining = response.header("RateLimit-Remaining")
    reset = response.header("RateLimit-Reset")
    retry_after = response.header("Retry-After") if response.status == 429 else None
    if limit is None and remaining is None and reset is None and retry_after is None:
        return NO_FEEDBACK
    return Feedback(_number(limit, int), _number(remaining, int), _number(reset, float), _number(retry_after, float))


def _number(text: str | None, kind: type[int] | type[float]) -> int | float | None:
    """The header's (first) number, or None. Most values are one plain number, which
    `kind` reads alone (it skips the same whitespace `strip` would)."""
    if not text:
        return None
    try:
        return kind(text)
    except ValueError:
        pass
    try:
        return kind(text.split(",")[0].strip())
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
        self._spent: dict[tuple[object, ...], tuple[str, str, RateLimit] | None] = {}  # request shape -> `_budget_of`

    async def send(self, request: UpstreamRequest) -> UpstreamResponse:
        spent = self._budget_of(request)
        if spent is None:  # not an operation of the pinned revision: nothing to count against
            return await self._inner.send(request)
        key, operation, limit = spent
        started = self._clock()
        wait = await self._budget.reserve(key, limit, started)
        if wait > 0:  # (most requests are admitted at once: no coroutine for the waiting)
            await self._wait_for_budget(key, operation, limit, started, wait, self._max_wait if request.may_wait else 0.0)
        metrics.child(metrics.GOVERNOR_WAIT_SECONDS, operation).observe(self._clock() - started)
        response = await self._inner.send(request)
        feedback = feedback_of(response)
        if feedback is not NO_FEEDBACK:
            await self._budget.observe(key, limit, feedback, self._clock())
        return response

    def _budget_of(self, request: UpstreamRequest) -> tuple[str, str, RateLimit] | None:
        """The budget a request spends: its key (account and operation), operation and
        limit; None for no operation of the pinned revision. Every upstream call asks, and
        most come in a few shapes, so the answer is remembered per method, path, query and
        credentials: all the operation and the account are read from."""
        shape = (request.method, request.path, request.query, request.header("Authorization"))
        spent = self._spent.get(shape, _UNSEEN)
        if spent is _UNSEEN:
            if len(self._spent) >= _SHAPES_KEPT:  # many shapes (ids, a key flood): forget them all
                self._spent.clear()
            matched = self._tiers.tier_of(request)
            spent = None if matched is None else (f"{self._accounts.of_request(request)}|{matched[0]}", *matched)
            self._spent[shape] = spent
        return spent

    async def _wait_for_budget(self, key: str, operation: str, limit: RateLimit, started: float, wait: float, max_wait: float) -> None:
        """Sleep until the budget has room, or refuse once the total wait would exceed `max_wait`."""
        while wait > 0:
            if self._clock() - started + wait > max_wait:
                metrics.GOVERNOR_REFUSALS.labels(operation).inc()
                raise UpstreamThrottled(429, [], operation, max(1, math.ceil(wait)))
            await self._sleep(wait + _WAKE_MARGIN)
            wait = await self._budget.reserve(key, limit, self._clock())

    async def aclose(self) -> None:
        await self._inner.aclose()  # the budget belongs to the state store, which closes it
