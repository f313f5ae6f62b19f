"""Switchable faults in front of the sandbox, for staging and resilience tests.

A `FaultyTransport` wraps any transport. Each fault is a probability (0–1) or a
duration; `faults.clear()` restores a healthy upstream. The sandbox app exposes the same
switch at `/__sandbox/faults`.
"""

from __future__ import annotations

import asyncio
import math
import random
from dataclasses import asdict, dataclass, fields

from proxy.newapi.errors import UpstreamUnreachable
from proxy.newapi.messages import UpstreamRequest, UpstreamResponse
from proxy.newapi.transport import Transport

_SERVER_ERROR = b'{"errors":[{"id":"fault","status":503,"code":"service_unavailable","title":"Service unavailable","detail":"injected fault"}]}'
_THROTTLED = b'{"errors":[{"id":"fault","status":429,"code":"throttled","title":"Too many requests","detail":"injected fault"}]}'


@dataclass
class Faults:
    latency: float = 0.0  # seconds added before every answer
    server_errors: float = 0.0  # share of calls answered 500/503
    resets: float = 0.0  # share of calls whose connection drops
    throttles: float = 0.0  # share of calls answered 429
    retry_after: int = 1
    truncated: float = 0.0  # share of answers cut in half
    slow_body: float = 0.0  # seconds a body takes to arrive (after the headers)

    def clear(self) -> None:
        for spec in fields(self):
            setattr(self, spec.name, spec.default)

    def update(self, **changes: float) -> None:
        """All changes or none: each must be a known fault with a finite value, 0 or more,
        and a share at most 1."""
        checked = {name: self._checked(name, value) for name, value in changes.items()}
        for name, value in checked.items():
            setattr(self, name, value)

    def _checked(self, name: str, value: object) -> float:
        if name not in {spec.name for spec in fields(self)}:
            raise ValueError(f"unknown fault {name!r}")
        kind = type(getattr(self, name))
        try:
            number = kind(value) if not isinstance(value, bool) else None
        except (TypeError, ValueError):
            number = None
        if number is None or not math.isfinite(number) or number < 0 or (name in _SHARES and number > 1):
            limits = "between 0 and 1" if name in _SHARES else "a number, 0 or more"
            raise ValueError(f"fault {name!r} must be {limits}")
        return number

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


_SHARES = frozenset({"server_errors", "resets", "throttles", "truncated"})


class FaultyTransport:
    def __init__(self, inner: Transport, faults: Faults | None = None, rng: random.Random | None = None):
        self.inner = inner
        self.faults = faults or Faults()
        self._rng = rng or random.Random(7)

    async def send(self, request: UpstreamRequest) -> UpstreamResponse:
        faults = self.faults
        if faults.latency:
            await asyncio.sleep(faults.latency)
        if self._happens(faults.resets):
            raise UpstreamUnreachable(f"{request.method} {request.path}: connection reset (injected)")
        if self._happens(faults.throttles):
            return UpstreamResponse(429, {"Retry-After": str(faults.retry_after)}, _THROTTLED)
        if self._happens(faults.server_errors):
            return UpstreamResponse(self._rng.choice((500, 503)), {}, _SERVER_ERROR)
        response = await self.inner.send(request)
        if faults.slow_body:
            await asyncio.sleep(faults.slow_body)
        if self._happens(faults.truncated) and response.body:
            return UpstreamResponse(response.status, response.headers, response.body[: len(response.body) // 2])
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()

    def _happens(self, chance: float) -> bool:
        return chance > 0 and self._rng.random() < chance
