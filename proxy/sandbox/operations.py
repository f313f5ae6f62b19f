"""Per-operation limits the sandbox enforces: read from the spec when it is loaded, else
from this built-in copy (a test keeps the copy equal to the spec)."""

from __future__ import annotations

from dataclasses import dataclass

from proxy.openapi.spec import PageSize, RateLimit, Spec

M = RateLimit(burst=10, steady=150, daily=None)
L = RateLimit(burst=75, steady=750, daily=None)
XL = RateLimit(burst=350, steady=3500, daily=None)


@dataclass(frozen=True)
class OperationLimits:
    ratelimit: RateLimit
    page_size: PageSize | None  # None: the operation takes no page[size]


BUILT_IN: dict[str, OperationLimits] = {
    "get_metrics": OperationLimits(M, None),
    "get_metric": OperationLimits(M, None),
    "get_events": OperationLimits(XL, PageSize(minimum=1, maximum=1000, default=200)),
    "get_event": OperationLimits(M, None),
    "create_event": OperationLimits(XL, None),
    "create_client_event": OperationLimits(XL, None),
    "create_client_profile": OperationLimits(XL, None),
    "get_profiles": OperationLimits(L, PageSize(minimum=1, maximum=100, default=20)),
    "get_profile": OperationLimits(L, None),
    "create_profile": OperationLimits(L, None),
    "create_or_update_profile": OperationLimits(L, None),
    "update_profile": OperationLimits(L, None),
}


def limits_for(operation_id: str, spec: Spec | None) -> OperationLimits:
    if spec is None:
        return BUILT_IN[operation_id]
    operation = spec.by_id(operation_id)
    return OperationLimits(
        operation.ratelimit or BUILT_IN[operation_id].ratelimit, operation.page_size
    )
