"""Per-operation limits the sandbox enforces, read from the spec: a generally available
operation from the pinned spec, a beta one (absent from it) from the beta spec."""

from __future__ import annotations

from dataclasses import dataclass

from proxy.openapi.spec import ConditionalRateLimit, PageSize, RateLimit, Spec


@dataclass(frozen=True)
class OperationLimits:
    ratelimit: RateLimit
    page_size: PageSize | None  # None: the operation takes no page[size]
    beta: bool = False  # served only under the beta (`.pre`) revision and described by its spec
    conditional: tuple[ConditionalRateLimit, ...] = ()  # lower tiers a query parameter selects


def limits_for(operation_id: str, spec: Spec, beta_spec: Spec) -> OperationLimits:
    try:
        operation = spec.by_id(operation_id)
    except KeyError:
        operation = beta_spec.by_id(operation_id)
    if operation.ratelimit is None:
        # Every operation the sandbox serves states its tier; guessing one would make the
        # sandbox kinder (or harsher) than Klaviyo without anyone noticing.
        raise ValueError(f"spec {operation_id!r} states no x-klaviyo-ratelimit")
    return OperationLimits(operation.ratelimit, operation.page_size, operation.pre_release, operation.conditional_ratelimits)
