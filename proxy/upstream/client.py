"""The new-API client: auth, revision, media types, path encoding, error decoding.

Everything goes through a `Transport`, so tests and the sandbox swap the network
instead of monkeypatching it.
"""

from __future__ import annotations

import contextvars
import functools
import re
import time
from dataclasses import dataclass, field
from typing import Any, Mapping
from urllib.parse import parse_qsl, quote, urlsplit

import msgspec
import orjson

from proxy.newapi.errors import UpstreamRejected, UpstreamServerError, UpstreamThrottled
from proxy.newapi.messages import Query, UpstreamRequest, UpstreamResponse
from proxy.newapi.transport import Transport
from proxy.path_templates import VARIABLE
from proxy.revision import PINNED_REVISION

JSON_API = "application/vnd.api+json"


@dataclass(frozen=True, slots=True)
class Credentials:
    private_key: str | None = None
    public_key: str | None = None


@dataclass(frozen=True, slots=True)
class Call:
    """One new-API call, before credentials are attached."""

    method: str
    path: str  # template, e.g. "/api/profiles/{id}"
    path_params: Mapping[str, str] = field(default_factory=dict)
    query: Query = ()
    body: Any = None
    revision: str = PINNED_REVISION
    may_wait: bool = True  # False: only if the rate budget is free now, no retries (UpstreamRequest)
    view: Any = None  # a `proxy.newapi.views` TypedDict: a success is decoded into it alone

    @property
    def operation(self) -> str:
        return f"{self.method} {self.path}"

    def encoded_path(self) -> str:
        if "{" not in self.path:  # no variables (most calls): nothing to fill
            return self.path

        def fill(match: re.Match[str]) -> str:
            value = self.path_params[match.group(1)]
            if value in ("", ".", ".."):
                raise ValueError(f"path parameter {match.group(1)} may not be {value!r}")
            return quote(value, safe="")

        return VARIABLE.sub(fill, self.path)


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    document: Any  # parsed JSON:API document, None for an empty body
    headers: Mapping[str, str]

    @property
    def next_cursor(self) -> str | None:
        """The `page[cursor]` of `links.next`, or None on the last page."""
        links = (self.document or {}).get("links") or {}
        return cursor_of(links.get("next"))


def cursor_of(url: str | None) -> str | None:
    if not url:
        return None
    return dict(parse_qsl(urlsplit(url).query)).get("page[cursor]")


@dataclass(frozen=True, slots=True)
class CallRecord:
    operation: str
    status: int | str
    ms: float


# Upstream calls made while serving the current legacy request, for its log line.
current_calls: contextvars.ContextVar[list[CallRecord] | None] = contextvars.ContextVar("current_calls", default=None)


class UpstreamClient:
    def __init__(self, transport: Transport):
        self._transport = transport

    async def send(self, call: Call, credentials: Credentials) -> Reply:
        response = await self.forward(build_request(call, credentials), call.operation)
        return _decode(call, response)

    async def forward(self, request: UpstreamRequest, operation: str) -> UpstreamResponse:
        """Send a ready-made request as it is (passthrough), recorded like any other call."""
        started = time.perf_counter()
        status: int | str = "error"
        try:
            response = await self._transport.send(request)
            status = response.status
            return response
        finally:
            calls = current_calls.get()
            if calls is not None:
                calls.append(CallRecord(operation, status, round((time.perf_counter() - started) * 1000, 2)))

    async def aclose(self) -> None:
        await self._transport.aclose()


def build_request(call: Call, credentials: Credentials) -> UpstreamRequest:
    headers = {"revision": call.revision, "Accept": JSON_API}
    query = call.query
    if call.path.startswith("/client/"):
        query = (("company_id", credentials.public_key or ""), *query)
    elif credentials.private_key:
        headers["Authorization"] = f"Klaviyo-API-Key {credentials.private_key}"
    body = None
    if call.body is not None:
        headers["Content-Type"] = JSON_API
        body = orjson.dumps(call.body)
    return UpstreamRequest(call.method, call.encoded_path(), tuple(query), headers, body, call.may_wait)


def _decode(call: Call, response: UpstreamResponse) -> Reply:
    if call.view is not None and response.status < 300:
        return Reply(response.status, _viewed(call, response), response.headers)
    document = _parse(response.body)
    if response.status < 300:
        if response.body.strip() and not isinstance(document, dict):
            # A truncated or garbled success is no success: nothing can be read from it.
            raise UpstreamServerError(response.status, [], call.operation)
        return Reply(response.status, document, response.headers)
    errors = document.get("errors", []) if isinstance(document, dict) else []
    if response.status == 429:
        retry_after = _retry_after(response.header("Retry-After"))
        raise UpstreamThrottled(429, errors, call.operation, retry_after)
    if response.status >= 500 or response.status < 400:
        raise UpstreamServerError(response.status, errors, call.operation)
    raise UpstreamRejected(response.status, errors, call.operation)


def _parse(body: bytes) -> Any:
    if not body.strip():
        return None
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return None


def _viewed(call: Call, response: UpstreamResponse) -> Any:
    """A success's document as its call's view sees it; one the view cannot read (not
    JSON, not an object, a part of another type than the view names) is garbled."""
    if not response.body.strip():
        return None
    try:
        return _decoder(call.view).decode(response.body)
    except msgspec.MsgspecError:
        raise UpstreamServerError(response.status, [], call.operation) from None


@functools.cache
def _decoder(view: Any) -> msgspec.json.Decoder:
    return msgspec.json.Decoder(view)


def _retry_after(value: str | None) -> int:
    try:
        return max(1, int(float(value))) if value else 1
    except ValueError:
        return 1
