"""A transport wrapper that counts every attempt leaving the proxy (by operation and
outcome, with latency) and remembers whether upstream answered the last one, for
`/readyz`."""

from __future__ import annotations

import time
from collections.abc import Callable

from proxy import metrics
from proxy.newapi.errors import TransportError, UpstreamTimeout
from proxy.newapi.messages import UpstreamRequest, UpstreamResponse
from proxy.newapi.transport import Transport

# How long a failed attempt keeps upstream marked unreachable without newer evidence.
UNREACHABLE_FOR = 30.0


class ObservedTransport:
    def __init__(
        self, inner: Transport, operation_of: Callable[[UpstreamRequest], str], clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._inner = inner
        self._operation_of = operation_of
        self._clock = clock
        self._answered: bool | None = None  # whether upstream answered the latest attempt (None: none yet)
        self._unanswered_at = 0.0  # when the latest attempt upstream did not answer was made

    def reachability(self) -> str:
        """"reachable", "unreachable" (a recent attempt got no answer) or "unknown"."""
        if self._answered is None:
            return "unknown"
        if self._answered:
            return "reachable"
        return "unreachable" if self._clock() - self._unanswered_at < UNREACHABLE_FOR else "unknown"

    async def send(self, request: UpstreamRequest) -> UpstreamResponse:
        operation = self._operation_of(request)
        started = time.perf_counter()
        try:
            response = await self._inner.send(request)
        except TransportError as error:
            self._answered, self._unanswered_at = False, self._clock()
            outcome = "timeout" if isinstance(error, UpstreamTimeout) else "unreachable"
            metrics.child(metrics.UPSTREAM_CALLS, operation, outcome).inc()
            raise
        self._answered = True  # (an answer's time is never asked: no clock read for most attempts)
        metrics.UPSTREAM_ANSWERED.observe(operation, response.status, time.perf_counter() - started)
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()
