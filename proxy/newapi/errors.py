"""What can go wrong upstream, from the caller's point of view.

Transports raise `TransportError`s; the client turns HTTP answers into the rest.
The edge maps all of them to legacy errors in one place (`proxy.engine.failures`).
"""

from __future__ import annotations

from typing import Any


class UpstreamError(Exception):
    """Base: the new API could not give us what we asked for."""


class TransportError(UpstreamError):
    """The request did not get a complete HTTP answer."""


class UpstreamTimeout(TransportError):
    pass


class UpstreamUnreachable(TransportError):
    pass


class SharedStateUnavailable(UpstreamError):
    """The proxy's shared state (the Redis rate budget) cannot be reached, so no call may
    leave without risking the account's limits; the caller may try again shortly."""

    retry_after = 5


class UpstreamRejected(UpstreamError):
    """The new API answered with an error status and (usually) a JSON:API errors[] list."""

    def __init__(self, status: int, errors: list[dict[str, Any]], operation: str):
        self.status = status
        self.errors = errors
        self.operation = operation
        super().__init__(f"{operation} answered {status}: {self.detail}")

    @property
    def detail(self) -> str:
        if self.errors:
            first = self.errors[0]
            return str(first.get("detail") or first.get("title") or first.get("code") or "")
        return ""

    @property
    def code(self) -> str:
        return str(self.errors[0].get("code", "")) if self.errors else ""


class UpstreamThrottled(UpstreamRejected):
    def __init__(self, status: int, errors: list[dict[str, Any]], operation: str, retry_after: int):
        super().__init__(status, errors, operation)
        self.retry_after = retry_after


class UpstreamServerError(UpstreamRejected):
    """A 5xx, or an answer we could not read."""
