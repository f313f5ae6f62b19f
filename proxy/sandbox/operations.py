"""Per-operation limits the sandbox enforces: read from the spec when it is loaded, else
from this built-in copy (a test keeps the copy equal to the spec)."""

from __future__ import annotations

from dataclasses import dataclass

from proxy.openapi.spec import PageSize, RateLimit, Spec

S = RateLimit(burst=3, steady=60, daily=None)
M = RateLimit(burst=10, steady=150, daily=None)
L = RateLimit(burst=75, steady=750, daily=None)
XL = RateLimit(burst=350, steady=3500, daily=None)


@dataclass(frozen=True)
class OperationLimits:
    ratelimit: RateLimit
    page_size: PageSize | None  # None: the operation takes no page[size]
    beta: bool = False  # served only under the beta (`.pre`) revision and described by its spec


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
    "query_metric_aggregates": OperationLimits(S, None),
    "bulk_suppress_profiles": OperationLimits(L, None),
    "get_bulk_suppress_profiles_job": OperationLimits(L, None),
    "request_profile_deletion": OperationLimits(S, None),
    "get_lists": OperationLimits(L, PageSize(minimum=1, maximum=10, default=10)),
    "create_list": OperationLimits(RateLimit(burst=10, steady=150, daily=150), None),
    "get_list": OperationLimits(L, None),
    "update_list": OperationLimits(M, None),
    "delete_list": OperationLimits(M, None),
    "get_profiles_for_list": OperationLimits(L, PageSize(minimum=1, maximum=100, default=20)),
    "add_profiles_to_list": OperationLimits(M, None),
    "remove_profiles_from_list": OperationLimits(M, None),
    "get_segments": OperationLimits(L, PageSize(minimum=1, maximum=10, default=10)),
    "get_segment": OperationLimits(L, None),
    "get_profiles_for_segment": OperationLimits(L, PageSize(minimum=1, maximum=100, default=20)),
    "bulk_subscribe_profiles": OperationLimits(L, None),
    "bulk_unsubscribe_profiles": OperationLimits(L, None),
    "create_client_subscription": OperationLimits(RateLimit(burst=350, steady=750, daily=None), None),
    "get_templates": OperationLimits(L, PageSize(minimum=1, maximum=10, default=10)),
    "create_template": OperationLimits(L, None),
    "get_template": OperationLimits(L, None),
    "update_template": OperationLimits(L, None),
    "delete_template": OperationLimits(L, None),
    "clone_template": OperationLimits(L, None),
    "render_template": OperationLimits(S, None),
    "create_template_preview_send_job_beta": OperationLimits(RateLimit(burst=1, steady=15, daily=100), None, beta=True),
    "get_campaigns": OperationLimits(M, PageSize(minimum=1, maximum=100, default=100)),
    "create_campaign": OperationLimits(M, None),
    "get_campaign": OperationLimits(M, None),
    "update_campaign": OperationLimits(M, None),
    "create_campaign_clone": OperationLimits(M, None),
    "get_messages_for_campaign": OperationLimits(M, None),
    "update_campaign_message": OperationLimits(M, None),
    "assign_template_to_campaign_message": OperationLimits(M, None),
    "send_campaign": OperationLimits(M, None),
    "cancel_campaign_send": OperationLimits(M, None),
    "bulk_create_events": OperationLimits(M, None),
    "bulk_import_profiles": OperationLimits(M, None),
    "get_bulk_import_profiles_job": OperationLimits(M, None),
    "get_errors_for_bulk_import_profiles_job": OperationLimits(M, PageSize(minimum=1, maximum=100, default=20)),
}


def limits_for(operation_id: str, spec: Spec | None, beta_spec: Spec | None = None) -> OperationLimits:
    """A beta operation is read from the beta spec, every other one from the stable spec."""
    built_in = BUILT_IN[operation_id]
    source = beta_spec if built_in.beta else spec
    if source is None:
        return built_in
    operation = source.by_id(operation_id)
    return OperationLimits(operation.ratelimit or built_in.ratelimit, operation.page_size, operation.pre_release)
