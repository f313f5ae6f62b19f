"""Metric export: the metric, then one metric-aggregates query for the whole export
(S tier, 3/s and 60/m, so never one call per segment)."""

from __future__ import annotations

from datetime import UTC, datetime

from proxy.engine.context import Context
from proxy.legacy.responses import LegacyResponse, json_response
from proxy.shapes.export import legacy_export
from proxy.shapes.export_input import export_plan
from proxy.shapes.metric import legacy_metric


async def export(ctx: Context) -> LegacyResponse:
    metric_id = ctx.path_params["metric_id"]
    today = datetime.fromtimestamp(ctx.received_at_ns / 1e9, UTC).date()
    plan = export_plan(metric_id, ctx.params, today)
    metric = await ctx.send(ctx.call("GET", "/api/metrics/{id}", path_params={"id": metric_id}))
    aggregate = await ctx.send(ctx.call("POST", "/api/metric-aggregates", body=plan.body))
    return json_response(legacy_export(legacy_metric(metric.document["data"]), plan, aggregate.document["data"]))
