"""POST /api/metric-aggregates: a metric's events counted, summed (`$value`) and counted by
distinct profile, per hour, day, week or month of an IANA timezone, optionally split by
event-property dimensions.

The filter list must hold `greater-or-equal(datetime,…)` and `less-than(datetime,…)`
(at most a year apart, starting within five years, as Klaviyo documented); further
conditions name dimensions and compare as text. Buckets start at local boundaries
(weeks on Monday) and `dates` gives those instants in UTC, as Klaviyo documents. Rows
come sorted by dimension values unless `sort` says otherwise; events lacking a requested
dimension fall into no row. The response has no field for a next page, so the sandbox
never issues a `page_cursor` and refuses one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

import orjson

from proxy.openapi.filters import Condition, FilterError, parse
from proxy.sandbox import errors, jsonapi
from proxy.sandbox.filtering import Field, predicate
from proxy.sandbox.jsonapi import Resource, View
from proxy.sandbox.lookup import existing
from proxy.sandbox.payload import attributes_of, member, resource_data
from proxy.sandbox.routing import Call, Reply, RouteTable
from proxy.sandbox.store import Event
from proxy.newapi.metric_aggregates import DIMENSIONS  # the spec's `by` enum, kept in one place

ROUTES = RouteTable()

ATTRIBUTES = "/data/attributes"
MEASUREMENTS = ("count", "sum_value", "unique")
INTERVALS = ("hour", "day", "week", "month")
REFUSED_TIMEZONES = frozenset({"Factory", "Europe/Kyiv", "Pacific/Kanton"})
DEFAULT_PAGE_SIZE = 500
# Klaviyo's documented bounds on the queried range.
LONGEST_RANGE = timedelta(days=366)
EARLIEST_START = timedelta(days=5 * 366)

Key = tuple[str, ...]  # one row's dimension values


@dataclass(frozen=True, slots=True)
class Query:
    metric_id: str
    measurements: tuple[str, ...]
    start: datetime  # inclusive
    end: datetime  # exclusive
    keep: Callable[[Event], bool]
    interval: str
    timezone: ZoneInfo
    by: tuple[str, ...]
    sort: str | None
    page_size: int


@ROUTES.route("POST", "/api/metric-aggregates")
def query_metric_aggregates(call: Call) -> Reply:
    attributes = attributes_of(resource_data(call.body, "metric-aggregate"))
    query = _query(attributes, call.now)
    existing(call.account.metrics.get, "metric", query.metric_id)
    dates = _bucket_starts(query)
    rows = _rows(query, dates, _events(call, query))
    resource = Resource(
        type="metric-aggregate",
        id=call.ids.ulid(call.now),
        attributes={"dates": [date.astimezone(UTC).isoformat() for date in dates], "data": rows},
    )
    view = View.of(call)
    return Reply(200, jsonapi.single(resource, view))


def _query(attributes: dict[str, Any], now: float) -> Query:
    if member(attributes, "page_cursor", ATTRIBUTES, str) is not None:
        raise errors.invalid("Invalid page cursor.", pointer=f"{ATTRIBUTES}/page_cursor")
    conditions = _conditions(member(attributes, "filter", ATTRIBUTES, list, required=True))
    start, end = _time_range(conditions, now)
    by = tuple(member(attributes, "by", ATTRIBUTES, list) or ())
    measurements = tuple(member(attributes, "measurements", ATTRIBUTES, list, required=True))
    return Query(
        metric_id=member(attributes, "metric_id", ATTRIBUTES, str, required=True),
        measurements=_checked(measurements, MEASUREMENTS, "measurements", required=True),
        start=start,
        end=end,
        keep=predicate([c for c in conditions if c.field != "datetime"], DIMENSION_FIELDS),
        interval=_interval(member(attributes, "interval", ATTRIBUTES, str) or "day"),
        timezone=_timezone(member(attributes, "timezone", ATTRIBUTES, str) or "UTC"),
        by=_checked(by, DIMENSIONS, "by"),
        sort=_sort(member(attributes, "sort", ATTRIBUTES, str), by, measurements),
        page_size=_page_size(member(attributes, "page_size", ATTRIBUTES, int)),
    )


def _checked(values: tuple[Any, ...], allowed: Sequence[str], name: str, *, required: bool = False) -> tuple[str, ...]:
    if required and not values:
        raise errors.invalid(f"'{name}' needs at least one value.", pointer=f"{ATTRIBUTES}/{name}")
    for index, value in enumerate(values):
        if value not in allowed:
            raise errors.invalid(f"{value!r} is not a valid {name} value.", pointer=f"{ATTRIBUTES}/{name}/{index}")
    return values


def _interval(interval: str) -> str:
    if interval not in INTERVALS:
        raise errors.invalid(f"{interval!r} is not a valid interval.", pointer=f"{ATTRIBUTES}/interval")
    return interval


def _conditions(filters: list[Any]) -> list[Condition]:
    conditions: list[Condition] = []
    for index, text in enumerate(filters):
        at = f"{ATTRIBUTES}/filter/{index}"
        if not isinstance(text, str):
            raise errors.invalid("Each filter must be a string.", pointer=at)
        try:
            conditions += parse(text)
        except FilterError as error:
            raise errors.invalid(f"Invalid filter: {error}", pointer=at) from None
    return conditions


def _time_range(conditions: list[Condition], now: float) -> tuple[datetime, datetime]:
    """The range from the required `greater-or-equal(datetime,…)` and `less-than(datetime,…)`."""
    bounds = {c.operator: c.value for c in conditions if c.field == "datetime"}
    start, end = bounds.get("greater-or-equal"), bounds.get("less-than")
    if set(bounds) - {"greater-or-equal", "less-than"} or not isinstance(start, datetime) or not isinstance(end, datetime):
        raise errors.invalid(
            "The filter must hold a time range: greater-or-equal(datetime,…) and less-than(datetime,…).",
            pointer=f"{ATTRIBUTES}/filter",
        )
    earliest = datetime.fromtimestamp(now, UTC) - EARLIEST_START
    if not earliest <= start < end <= start + LONGEST_RANGE:
        raise errors.invalid(
            "The time range must start within the last 5 years, end after it starts and span at most 1 year.",
            pointer=f"{ATTRIBUTES}/filter",
        )
    return start, end


def _as_text(value: Any) -> str:
    """Dimension values are text: property values and filter values compare as such."""
    return value if isinstance(value, str) else orjson.dumps(value).decode()


def _dimension(name: str) -> Callable[[Event], str | None]:
    def read(event: Event) -> str | None:
        value = event.event_properties.get(name)
        return None if value is None else _as_text(value)

    return read


DIMENSION_FIELDS: dict[str, Field[Event]] = {name: Field(_dimension(name), fold=_as_text) for name in DIMENSIONS}


@cache
def _known_timezones() -> frozenset[str]:
    return frozenset(available_timezones()) - REFUSED_TIMEZONES


def _timezone(name: str) -> ZoneInfo:
    if name not in _known_timezones():
        raise errors.invalid(f"{name!r} is not a supported timezone.", pointer=f"{ATTRIBUTES}/timezone")
    return ZoneInfo(name)


def _sort(sort: str | None, by: tuple[str, ...], measurements: tuple[str, ...]) -> str | None:
    if sort is not None and sort.removeprefix("-") not in (*by, *measurements):
        raise errors.invalid(
            f"Sort by one of the requested dimensions or measurements, not {sort!r}.", pointer=f"{ATTRIBUTES}/sort"
        )
    return sort


def _page_size(page_size: int | None) -> int:
    if page_size is None:
        return DEFAULT_PAGE_SIZE
    if page_size < 1:
        raise errors.invalid("'page_size' must be at least 1.", pointer=f"{ATTRIBUTES}/page_size")
    return page_size


def _events(call: Call, query: Query) -> Iterable[Event]:
    start, end = query.start.timestamp(), query.end.timestamp()
    window = call.account.events.ordered(metric_id=query.metric_id, first=start, last=end)
    return (event for event in window if event.timestamp < end and query.keep(event))


def _bucket_starts(query: Query) -> list[datetime]:
    starts = [_bucket_of(query.start, query)]
    while (following := _following(starts[-1], query.interval)) < query.end:
        starts.append(following)
    return starts


def _bucket_of(moment: datetime, query: Query) -> datetime:
    """The local start of the interval holding `moment`."""
    local = moment.astimezone(query.timezone)
    if query.interval == "hour":
        return local.replace(minute=0, second=0, microsecond=0)
    day = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if query.interval == "week":
        return day - timedelta(days=day.weekday())
    return day.replace(day=1) if query.interval == "month" else day


def _following(start: datetime, interval: str) -> datetime:
    if interval == "hour":  # in absolute time, so a DST change neither skips nor repeats an hour
        return (start.astimezone(UTC) + timedelta(hours=1)).astimezone(start.tzinfo)
    if interval == "month":
        return start.replace(year=start.year + start.month // 12, month=start.month % 12 + 1)
    return start + timedelta(days=7 if interval == "week" else 1)  # wall-clock days


def _rows(query: Query, dates: list[datetime], events: Iterable[Event]) -> list[dict[str, Any]]:
    position = {date.timestamp(): index for index, date in enumerate(dates)}
    buckets: dict[Key, list[list[Event]]] = {} if query.by else {(): [[] for _ in dates]}
    readers = [DIMENSION_FIELDS[name].read for name in query.by]
    for event in events:
        values = [read(event) for read in readers]
        if None in values:
            continue
        moment = datetime.fromtimestamp(event.timestamp, UTC)
        index = position[_bucket_of(moment, query).timestamp()]
        buckets.setdefault(tuple(values), [[] for _ in dates])[index].append(event)
    rows = [_row(key, per_date, query.measurements) for key, per_date in buckets.items()]
    return _sorted(rows, query)[: query.page_size]


def _row(key: Key, per_date: list[list[Event]], measurements: tuple[str, ...]) -> dict[str, Any]:
    return {
        "dimensions": list(key),
        "measurements": {name: [MEASURE[name](events) for events in per_date] for name in measurements},
    }


def _sum_value(events: list[Event]) -> float:
    values = (event.event_properties.get("$value") for event in events)
    return float(sum(value for value in values if isinstance(value, (int, float)) and not isinstance(value, bool)))


MEASURE: dict[str, Callable[[list[Event]], float | int]] = {
    "count": len,
    "sum_value": _sum_value,
    "unique": lambda events: len({event.profile_id for event in events}),
}


def _sorted(rows: list[dict[str, Any]], query: Query) -> list[dict[str, Any]]:
    rows.sort(key=lambda row: row["dimensions"])
    if query.sort is None:
        return rows
    return sorted(rows, key=_sort_key(query.sort.removeprefix("-"), query.by), reverse=query.sort.startswith("-"))


def _sort_key(name: str, by: tuple[str, ...]) -> Callable[[dict[str, Any]], Any]:
    """A dimension sorts by its value, a measurement by its total over the dates."""
    if name in by:
        index = by.index(name)
        return lambda row: row["dimensions"][index]
    return lambda row: sum(row["measurements"][name])
