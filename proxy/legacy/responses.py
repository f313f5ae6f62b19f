"""What the proxy answers a legacy client: plain data, rendered by the edge."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

import orjson


@dataclass(frozen=True, slots=True)
class LegacyResponse:
    status: int
    body: bytes
    content_type: str | None = None  # None: no Content-Type header at all
    headers: Mapping[str, str] = field(default_factory=dict)
    # The JSON value `body` was serialised from (`json_response`), so the envelope check
    # reads it instead of parsing a large answer (a members/all batch) back.
    document: Any = field(default=None, compare=False, repr=False)


def json_response(payload: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> LegacyResponse:
    return LegacyResponse(status, orjson.dumps(payload), "application/json", headers or {}, payload)


def text_response(text: str, status: int = 200) -> LegacyResponse:
    return LegacyResponse(status, text.encode(), "text/html; charset=utf-8")


def empty_response(status: int = 200) -> LegacyResponse:
    """v2 writes with nothing to say: 200, empty body, no Content-Type (clients reject 204)."""
    return LegacyResponse(status, b"")
