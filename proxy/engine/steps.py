"""Multi-step legacy writes: each step starts only after the one before it succeeded.

When a step fails after earlier ones changed something upstream, the legacy error
(mapped as usual by `proxy.engine.failures`) also names the failed step and the changes
already made, so the caller knows what state it left. A failure before any change is
reported as it is.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from proxy.engine.context import Context
from proxy.engine.failures import legacy_error_for
from proxy.legacy.errors import LegacyError
from proxy.newapi.errors import UpstreamError
from proxy.upstream.client import Call, Reply


@dataclass
class Steps:
    ctx: Context
    changed: list[str] = field(default_factory=list)

    @asynccontextmanager
    async def step(self, description: str, *, changes: bool) -> AsyncIterator[None]:
        try:
            yield
        except UpstreamError as failure:
            raise self._failed(description, failure) from None
        if changes:
            self.changed.append(description)

    async def send(self, description: str, call: Call) -> Reply:
        async with self.step(description, changes=call.method != "GET"):
            return await self.ctx.send(call)

    def _failed(self, description: str, failure: UpstreamError) -> LegacyError:
        error = legacy_error_for(failure)
        if not self.changed:
            return error
        message = f"{error.message} (failed step: {description}; already done: {'; '.join(self.changed)})"
        return LegacyError(error.status, message, error.headers)
