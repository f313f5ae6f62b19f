"""Legacy metric export answer (legacy contract §4.2) from a `metric-aggregate` resource.

`metric` first, the request echoed, then `results`: one segment per aggregate row
(`everyone` when the export was not split `by` a property), a `date` per interval and
`values` holding one float per legacy measurement, in the order they were asked for.
"""

from __future__ import annotations

from typing import Any, Mapping

from proxy.shapes.export_input import ExportPlan
from proxy.shapes.timefmt import legacy_datetime

UNSEGMENTED = "everyone"


def legacy_export(metric: Mapping[str, Any], plan: ExportPlan, aggregate: Mapping[str, Any]) -> dict[str, Any]:
    attributes = aggregate.get("attributes") or {}
    # A week or month bucket starts on its Monday or its 1st, which may precede the
    # export's first day; the legacy export dated its first bucket from `start_date`.
    # Both are "YYYY-MM-DD HH:MM:SS" in UTC, so the later one is the greater string.
    start = plan.echo["start_date"]
    dates = [max(legacy_datetime(date), start) for date in attributes.get("dates") or ()]
    results = [_segment(row, dates, plan) for row in attributes.get("data") or ()]
    return {"metric": dict(metric), **plan.echo, "results": results}


def _segment(row: Mapping[str, Any], dates: list[str], plan: ExportPlan) -> dict[str, Any]:
    dimensions = row.get("dimensions") or []
    series = row.get("measurements") or {}
    return {
        "segment": dimensions[0] if plan.segmented and dimensions else UNSEGMENTED,
        "data": [
            {"date": date, "values": [_value(series, name, index) for name in plan.measurements]}
            for index, date in enumerate(dates)
        ],
    }


def _value(series: Mapping[str, Any], name: str, index: int) -> float:
    values = series.get(name) or []
    return float(values[index]) if index < len(values) and values[index] is not None else 0.0
