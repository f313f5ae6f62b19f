"""Klaviyo's official OpenAPI description, loaded once and used to check calls.

Used by the sandbox (reject what the real API rejects) and by the contract tests
(every call the proxy sends must satisfy the pinned revision).
"""

from proxy.openapi import filters
from proxy.openapi.filters import NO_VALUE, Condition, FilterError
from proxy.openapi.spec import (
    Operation,
    PageSize,
    RateLimit,
    Spec,
    SpecError,
    default_spec_path,
    parse_ratelimit,
    pinned_spec,
)
from proxy.openapi.validate import validate_request, validate_response

__all__ = [
    "NO_VALUE",
    "Condition",
    "FilterError",
    "Operation",
    "PageSize",
    "RateLimit",
    "Spec",
    "SpecError",
    "default_spec_path",
    "filters",
    "parse_ratelimit",
    "pinned_spec",
    "validate_request",
    "validate_response",
]
