"""Retries where they are safe: a transport wrapper that sends a request again after a
429, a 5xx, a timeout or a broken connection, with jittered exponential backoff that
honours `Retry-After`, until a total time budget is spent.

Which requests may be sent twice:
- any request answered 429: Klaviyo refuses it before running it;
- reads and idempotent methods (GET, HEAD, OPTIONS, PUT, DELETE, PATCH);
- POSTs whose effect a replay cannot double: event creation when every event carries a
  `unique_id` (Klaviyo keeps one event per unique_id), profile upserts (they set the same
  attributes again) and read-only queries sent as POST.
A body that appends to a property (`meta.patch_*.append`) is never replayed: a second
append adds the value twice. Everything else (list creation, campaign sends, jobs) gets
one attempt after an ambiguous failure: it may have happened.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any

import orjson

from proxy import metrics
from proxy.newapi.errors import TransportError, UpstreamTimeout
from proxy.newapi.messages import UpstreamRequest, UpstreamResponse
from proxy.newapi.transport import Transport

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "PATCH"})
KEYED_EVENT_POSTS = frozenset({"/api/events", "/client/events", "/api/event-bulk-create-jobs", "/client/event-bulk-create"})
UPSERT_POSTS = frozenset({"/api/profile-import", "/client/profiles", "/api/profile-bulk-import-jobs"})
QUERY_POSTS = frozenset({"/api/metric-aggregates", "/api/template-render"})


def replayable(request: UpstreamRequest) -> bool:
    """May this request be sent again when we cannot tell whether it ran?"""
    if request.method in IDEMPOTENT_METHODS:
        return not _appends(_body(request))
    if request.method != "POST":
        return False
    if request.path in QUERY_POSTS:
        return True
    body = _body(request)
    if request.path in UPSERT_POSTS:
        return not _appends(body)
    if request.path in KEYED_EVENT_POSTS:
        events = list(_resources(body, "event"))
        return bool(events) and all(_unique_id(event) for event in events) and not _appends(body)
    return False


def _body(request: UpstreamRequest) -> Any:
    try:
        return orjson.loads(request.body) if request.body else None
    except orjson.JSONDecodeError:
        return None


def _resources(node: Any, resource_type: str):
    """Every resource object of a type, however deep (single and bulk bodies alike)."""
    if isinstance(node, dict):
        if node.get("type") == resource_type and isinstance(node.get("attributes"), dict):
            yield node
        for value in node.values():
            yield from _resources(value, resource_type)
    elif isinstance(node, list):
        for value in node:
            yield from _resources(value, resource_type)


def _unique_id(event: dict[str, Any]) -> bool:
    unique_id = event["attributes"].get("unique_id")
    return isinstance(unique_id, str) and unique_id != ""


def _appends(node: Any) -> bool:
    if isinstance(node, dict):
        for name, value in node.items():
            if name.startswith("patch_") and isinstance(value, dict) and value.get("append"):
                return True
            if _appends(value):
                return True
    elif isinstance(node, list):
        return any(_appends(value) for value in node)
    return False


class RetryingTransport:
    def __init__(
        self,
        inner: Transport,
        *,
        budget: float,
        operation_of: Callable[[UpstreamRequest], str],
        base_delay: float = 0.1,
        max_delay: float = 5.0,
        jitter: Callable[[], float] = random.random,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._inner = inner
        self._budget = budget
        self._operation_of = operation_of
        self._base_delay = base_delay
        self._max_delay = max_delay
        self._jitter = jitter
        self._clock = clock
        self._sleep = sleep

    async def send(self, request: UpstreamRequest) -> UpstreamResponse:
        deadline = self._clock() + self._budget
        attempt = 0
        while True:
            response: UpstreamResponse | None = None
            error: TransportError | None = None
            try:
                response = await self._inner.send(request)
            except TransportError as failed:
                error = failed
            else:
                if response.status not in RETRY_STATUSES:
                    return response
            delay = self._backoff(attempt)
            if response is not None:
                delay = max(delay, _retry_after(response))
            if self._clock() + delay > deadline or not _may_repeat(request, response):
                if error is not None:
                    raise error
                return response
            metrics.RETRIES.labels(self._operation_of(request), _reason(response, error)).inc()
            await self._sleep(delay)
            attempt += 1

    def _backoff(self, attempt: int) -> float:
        """Exponential, with "equal jitter": half fixed, half random, so replicas spread out."""
        ceiling = min(self._max_delay, self._base_delay * 2**attempt)
        return ceiling / 2 + ceiling / 2 * self._jitter()

    async def aclose(self) -> None:
        await self._inner.aclose()


def _may_repeat(request: UpstreamRequest, response: UpstreamResponse | None) -> bool:
    if not request.may_wait:  # its caller would rather do without than wait
        return False
    return (response is not None and response.status == 429) or replayable(request)


def _reason(response: UpstreamResponse | None, error: TransportError | None) -> str:
    if response is not None:
        return str(response.status)
    return "timeout" if isinstance(error, UpstreamTimeout) else "unreachable"


def _retry_after(response: UpstreamResponse) -> float:
    try:
        return max(0.0, float(response.header("Retry-After") or 0))
    except ValueError:
        return 0.0
