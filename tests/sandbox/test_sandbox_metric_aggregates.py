"""Metric aggregates: counts, value sums and uniques per interval and timezone, split by
dimensions, filtered, sorted, bounded — and the S-tier rate limit."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sandbox_helpers import event_body

DAY = 86_400
# The conftest clock starts at 2023-11-15 00:00:00 UTC, a Wednesday.
RANGE = ["greater-or-equal(datetime,2023-11-01T00:00:00)", "less-than(datetime,2023-11-04T00:00:00)"]


def at(text: str) -> str:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).isoformat()


async def record(api, when: str, email: str = "ada@example.com", value: float | None = None, **properties) -> None:
    extra = {"value": value} if value is not None else {}
    body = event_body(email=email, metric="Placed Order", time=at(when), unique_id=f"{email}-{when}", properties=properties, **extra)
    assert (await api.post("/api/events", body)).status == 202


async def aggregate(api, metric_id: str, **attributes):
    attributes = {"metric_id": metric_id, "measurements": ["count"], "filter": RANGE, **attributes}
    return await api.post("/api/metric-aggregates", {"data": {"type": "metric-aggregate", "attributes": attributes}})


@pytest.fixture
async def orders(api, acme) -> str:
    """Six orders over three days (one outside the range) by three people."""
    await record(api, "2023-10-31T23:59:59", value=100)
    await record(api, "2023-11-01T00:00:00", value=10, **{"$attributed_flow": "F1"})
    await record(api, "2023-11-01T13:30:00", email="grace@example.com", value=5.5, **{"$attributed_flow": "F1"})
    await record(api, "2023-11-01T23:00:00", value=1, **{"$attributed_flow": "F2"})
    await record(api, "2023-11-03T12:00:00", email="alan@example.com", **{"Campaign Name": 7})
    await record(api, "2023-11-04T00:00:00", value=1000)  # the range's end is exclusive
    (metric,) = acme.metrics
    return metric.id


async def test_measurements_per_day_in_utc(api, orders):
    answer = await aggregate(api, orders, measurements=["count", "sum_value", "unique"])
    assert answer.status == 200
    data = answer.data
    assert data["type"] == "metric-aggregate" and data["links"]["self"].endswith(f"/api/metric-aggregates/{data['id']}")
    assert data["attributes"]["dates"] == [at("2023-11-01T00:00:00"), at("2023-11-02T00:00:00"), at("2023-11-03T00:00:00")]
    (row,) = data["attributes"]["data"]
    assert row == {"dimensions": [], "measurements": {"count": [3, 0, 1], "sum_value": [16.5, 0.0, 0.0], "unique": [2, 0, 1]}}


async def test_days_of_another_timezone_are_given_in_utc(api, orders):
    answer = await aggregate(api, orders, timezone="America/New_York")
    dates = answer.data["attributes"]["dates"]
    # New York is UTC-4 until Nov 5: the midnight order falls on its Oct 31.
    assert dates == [at(f"2023-{day}T04:00:00") for day in ("10-31", "11-01", "11-02", "11-03")]
    assert answer.data["attributes"]["data"][0]["measurements"]["count"] == [1, 2, 0, 1]


async def test_weeks_start_on_monday_and_months_on_the_first(api, orders):
    weekly = await aggregate(api, orders, interval="week")
    assert weekly.data["attributes"]["dates"] == [at("2023-10-30T00:00:00")]
    assert weekly.data["attributes"]["data"][0]["measurements"]["count"] == [4]
    monthly = await aggregate(api, orders, interval="month")
    assert monthly.data["attributes"]["dates"] == [at("2023-11-01T00:00:00")]


async def test_hours_stay_whole_across_a_daylight_saving_change(api, acme):
    await record(api, "2023-10-29T00:30:00")  # 02:30 CEST
    await record(api, "2023-10-29T01:30:00")  # 02:30 CET, the repeated hour
    (metric,) = acme.metrics
    window = ["greater-or-equal(datetime,2023-10-29T00:00:00)", "less-than(datetime,2023-10-29T02:00:00)"]
    answer = await aggregate(api, metric.id, interval="hour", timezone="Europe/Berlin", filter=window)
    attributes = answer.data["attributes"]
    assert attributes["dates"] == [at("2023-10-29T00:00:00"), at("2023-10-29T01:00:00")]
    assert attributes["data"][0]["measurements"]["count"] == [1, 1]


async def test_by_splits_rows_and_drops_events_without_the_dimension(api, orders):
    answer = await aggregate(api, orders, by=["$attributed_flow"])
    rows = {tuple(row["dimensions"]): row["measurements"]["count"] for row in answer.data["attributes"]["data"]}
    assert rows == {("F1",): [2, 0, 0], ("F2",): [1, 0, 0]}


async def test_sort_and_page_size_pick_the_top_rows(api, orders):
    answer = await aggregate(api, orders, by=["$attributed_flow"], sort="-count", page_size=1)
    assert [row["dimensions"] for row in answer.data["attributes"]["data"]] == [["F1"]]
    answer = await aggregate(api, orders, by=["$attributed_flow"], sort="-$attributed_flow")
    assert [row["dimensions"] for row in answer.data["attributes"]["data"]] == [["F2"], ["F1"]]


@pytest.mark.parametrize(
    ("condition", "expected"),
    [('equals($attributed_flow,"F1")', [2, 0, 0]), ("equals(Campaign Name,'7')", None), ('equals(URL,"none")', [0, 0, 0])],
)
async def test_dimension_filters(api, orders, condition, expected):
    answer = await aggregate(api, orders, filter=[*RANGE, condition])
    if expected is None:  # a field is one token: a dimension with a space cannot be filtered on
        assert answer.status == 400 and answer.error["source"]["pointer"] == "/data/attributes/filter/2"
        return
    assert answer.data["attributes"]["data"][0]["measurements"]["count"] == expected


async def test_numbers_in_properties_compare_as_text(api, orders):
    answer = await aggregate(api, orders, by=["Campaign Name"])
    assert [row["dimensions"] for row in answer.data["attributes"]["data"]] == [["7"]]


@pytest.mark.parametrize(
    ("attributes", "pointer"),
    [
        ({"filter": RANGE[:1]}, "/data/attributes/filter"),
        ({"filter": ["greater-or-equal(datetime,2022-01-01T00:00:00)", "less-than(datetime,2023-11-04T00:00:00)"]}, "/data/attributes/filter"),
        ({"filter": ["greater-or-equal(datetime,2015-01-01T00:00:00)", "less-than(datetime,2015-01-04T00:00:00)"]}, "/data/attributes/filter"),
        ({"filter": [*RANGE, "equals(ProductName,'x')"]}, None),
        ({"filter": [*RANGE, "equals(("]}, "/data/attributes/filter/2"),
        ({"timezone": "Europe/Kyiv"}, "/data/attributes/timezone"),
        ({"timezone": "america/new_york"}, "/data/attributes/timezone"),
        ({"sort": "-unique"}, "/data/attributes/sort"),
        ({"page_cursor": "abc"}, "/data/attributes/page_cursor"),
        ({"page_size": 0}, "/data/attributes/page_size"),
    ],
)
async def test_invalid_queries_are_refused(api, orders, attributes, pointer):
    answer = await aggregate(api, orders, **attributes)
    assert answer.status == 400
    assert answer.error["source"].get("pointer") == pointer


async def test_an_unknown_metric_is_404(api, orders):
    assert (await aggregate(api, "nope00")).status == 404


async def test_the_spec_refuses_unknown_dimensions_and_measurements(api, orders):
    assert (await aggregate(api, orders, by=["ProductName"])).status == 400
    assert (await aggregate(api, orders, measurements=["sum"])).status == 400


async def test_aggregates_are_rate_limited_at_three_a_second(api, orders, clock):
    statuses = [(await aggregate(api, orders)).status for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    clock.advance(1)
    assert (await aggregate(api, orders)).status == 200
