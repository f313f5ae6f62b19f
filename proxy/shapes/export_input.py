"""Legacy metric-export parameters (legacy contract §4.2) → one `MetricAggregateQuery`.

- `start_date`/`end_date`: `YYYY-MM-DD` or Unix seconds, read as whole UTC days, both
  ends included; at most 31 days apart; a start needs an end (so the legacy "a month
  after the start" default never applies); without them, the month up to today.
- `unit` → `interval`; `measurement` `count`, `unique`, `value` (→ `sum_value`), a JSON
  string of one of them, `["sum","$value"]` (either order), or a JSON list of those. The
  new API sums only event values, so summing any other property is refused.
- `where` (one `[property, "=", value]`) → an `equals` filter; `by` → `by`, its top `count`
  segments by the first measurement. Both name new-API dimensions only; `where` and `by`
  exclude each other.
"""

from __future__ import annotations

import re
from calendar import monthrange
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Mapping

import orjson

from proxy.legacy.errors import LegacyInputError
from proxy.newapi.metric_aggregates import DIMENSIONS
from proxy.shapes.filter_expr import equals

# The new API's aggregation dimensions (the spec's `by` enum for query_metric_aggregates).
# A filter field is one token (no spaces), so only these dimensions can be filtered on.
FILTERABLE = tuple(name for name in DIMENSIONS if re.fullmatch(r"[\w$.:-]+", name))
MEASUREMENTS = {"count": "count", "unique": "unique", "value": "sum_value"}
SUMMABLE = frozenset({"$value", "value"})
LONGEST = timedelta(days=31)


class InvalidExport(LegacyInputError):
    pass


@dataclass(frozen=True, slots=True)
class ExportPlan:
    body: dict[str, Any]  # the metric-aggregates request
    echo: dict[str, Any]  # the parameters as the legacy answer repeats them
    measurements: tuple[str, ...]  # new-API measurement per legacy value, in legacy order
    segmented: bool


def export_plan(metric_id: str, params: Mapping[str, Any], today: date) -> ExportPlan:
    start, end = _range(params.get("start_date"), params.get("end_date"), today)
    measurements, measurement_echo = _measurements(params.get("measurement") or "count")
    where, by = params.get("where"), params.get("by")
    if where and by:
        raise InvalidExport("Invalid value for where: where and by cannot be used together.")
    attributes: dict[str, Any] = {
        "metric_id": metric_id,
        "measurements": list(dict.fromkeys(measurements)),
        "interval": params["unit"],
        "filter": [
            f"greater-or-equal(datetime,{start.isoformat()}T00:00:00)",
            f"less-than(datetime,{(end + timedelta(days=1)).isoformat()}T00:00:00)",
            *_where_filter(where),
        ],
        "timezone": "UTC",
    }
    if by:
        attributes |= {"by": [_dimension(by)], "sort": f"-{measurements[0]}", "page_size": params["count"]}
    echo = {
        "start_date": f"{start.isoformat()} 00:00:00",
        "end_date": f"{end.isoformat()} 00:00:00",
        "unit": params["unit"],
        "measurement": measurement_echo,
        "where": where or [],
        "by": by or "",
    }
    body = {"data": {"type": "metric-aggregate", "attributes": attributes}}
    return ExportPlan(body, echo, measurements, bool(by))


def _range(start_text: str | None, end_text: str | None, today: date) -> tuple[date, date]:
    start, end = _day("start_date", start_text), _day("end_date", end_text)
    if start is not None and end is None:
        raise InvalidExport("Invalid value for end_date: required when start_date is given.")
    start, end = start or _months_later(today, -1), end or today
    if end < start:
        raise InvalidExport("Invalid value for end_date: must not be before start_date.")
    if end - start > LONGEST:
        raise InvalidExport("Invalid value for end_date: must be at most 31 days after start_date.")
    return start, end


def _day(name: str, text: str | None) -> date | None:
    if text is None:
        return None
    value = text.strip()
    try:
        if value.isdigit():
            return datetime.fromtimestamp(int(value), UTC).date()
        return date.fromisoformat(value)
    except (ValueError, OverflowError, OSError):
        raise InvalidExport(f"Invalid value for {name}: use YYYY-MM-DD or Unix seconds.") from None


def _months_later(day: date, months: int) -> date:
    """The same day of another month, or that month's last day if it is shorter."""
    year, month_index = divmod(day.year * 12 + day.month - 1 + months, 12)
    return date(year, month_index + 1, min(day.day, monthrange(year, month_index + 1)[1]))


def _measurements(text: str) -> tuple[tuple[str, ...], list[Any]]:
    """New-API measurements in legacy order, and the legacy `measurement` as a list."""
    if text in MEASUREMENTS:
        return (MEASUREMENTS[text],), [text]
    try:
        parsed = orjson.loads(text)
    except orjson.JSONDecodeError:
        parsed = None
    items = [parsed] if isinstance(parsed, str) or _is_sum(parsed) else parsed
    if not isinstance(items, list) or not items:
        raise InvalidExport(
            'Invalid value for measurement: use count, unique, value, ["sum","$value"] or a JSON list of them.'
        )
    echo = parsed if isinstance(parsed, list) else [parsed]
    return tuple(_measurement(item) for item in items), echo


def _is_sum(value: Any) -> bool:
    return isinstance(value, list) and len(value) == 2 and "sum" in value and all(isinstance(v, str) for v in value)


def _measurement(item: Any) -> str:
    if isinstance(item, str) and item in MEASUREMENTS:
        return MEASUREMENTS[item]
    if _is_sum(item):
        summed = item[1] if item[0] == "sum" else item[0]
        if summed in SUMMABLE:
            return "sum_value"
        raise InvalidExport(f"Invalid value for measurement: the new API can only sum $value, not {summed!r}.")
    raise InvalidExport(f"Invalid value for measurement: {orjson.dumps(item).decode()} is not a measurement.")


def _where_filter(where: Any) -> list[str]:
    if where in (None, []):
        return []
    if not (
        isinstance(where, list)
        and len(where) == 1
        and isinstance(where[0], list)
        and len(where[0]) == 3
        and isinstance(where[0][0], str)
        and where[0][1] == "="
        and isinstance(where[0][2], (str, int, float))
    ):
        raise InvalidExport('Invalid value for where: use one condition, e.g. [["$attributed_flow","=","FLOW_ID"]].')
    name, _, value = where[0]
    if name not in FILTERABLE:
        raise InvalidExport(f"Invalid value for where: the new API filters only on {', '.join(FILTERABLE)}.")
    text = value if isinstance(value, str) else orjson.dumps(value).decode()
    return [equals(name, text)]


def _dimension(by: str) -> str:
    if by not in DIMENSIONS:
        raise InvalidExport(f"Invalid value for by: the new API segments only by {', '.join(DIMENSIONS)}.")
    return by
