"""JSON:API error objects, raised by any layer and turned into one response by the core."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass
class ApiError(Exception):
    status: int
    code: str
    title: str
    detail: str
    pointer: str | None = None
    parameter: str | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        """The error object as Klaviyo sends it: the spec's fields plus the observed
        integer `status`, empty `links` and a `meta` that carries e.g. duplicate ids."""
        source = {
            key: value
            for key, value in (("pointer", self.pointer), ("parameter", self.parameter))
            if value is not None
        }
        body: dict[str, Any] = {
            "id": str(uuid.uuid4()),
            "status": self.status,
            "code": self.code,
            "title": self.title,
            "detail": self.detail,
        }
        if source:
            body["source"] = source
        return {**body, "links": {}, "meta": dict(self.meta)}


def invalid(detail: str, *, pointer: str | None = None, parameter: str | None = None) -> ApiError:
    return ApiError(400, "invalid", "Invalid input.", detail, pointer=pointer, parameter=parameter)


def not_found(detail: str) -> ApiError:
    return ApiError(404, "not_found", "Not found.", detail)


def method_not_allowed(method: str) -> ApiError:
    return ApiError(405, "method_not_allowed", "Method not allowed.", f'Method "{method}" not allowed.')


def not_authenticated() -> ApiError:
    return ApiError(
        401,
        "not_authenticated",
        "Authentication credentials were not provided.",
        "Missing or invalid authorization scheme. Please use Klaviyo-API-Key.",
    )


def authentication_failed() -> ApiError:
    return ApiError(
        401,
        "authentication_failed",
        "Incorrect authentication credentials.",
        "Incorrect authentication credentials.",
    )


def conflict(detail: str, *, pointer: str) -> ApiError:
    return ApiError(409, "conflict", "Conflict.", detail, pointer=pointer)


def duplicate_profile(existing_id: str) -> ApiError:
    return ApiError(
        409,
        "duplicate_profile",
        "Conflict.",
        "A profile already exists with one of these identifiers.",
        pointer="/data/attributes",
        meta={"duplicate_profile_id": existing_id},
    )


def throttled(retry_after: int) -> ApiError:
    return ApiError(
        429,
        "throttled",
        "Request was throttled.",
        f"Request was throttled. Expected available in {retry_after} seconds.",
        headers={"Retry-After": str(retry_after)},
    )
