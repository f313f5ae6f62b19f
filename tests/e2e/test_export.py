"""Metric export: GET /api/v1/metric/{metric_id}/export through one metric-aggregates query."""

import json
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from proxy.sandbox.seed import DEMO_PRIVATE_KEY as PRIVATE_KEY
from proxy.sandbox.seed import DEMO_PUBLIC_KEY as PUBLIC_KEY

ANSWER_KEYS = ["metric", "start_date", "end_date", "unit", "measurement", "where", "by", "results"]
METRIC_KEYS = ["object", "id", "name", "integration", "created", "updated"]


@pytest.fixture
def account(sandbox):
    return sandbox.account(PUBLIC_KEY)


@pytest.fixture
def placed_order(account):
    return next(metric for metric in account.metrics if metric.name == "Placed Order")


def day_of(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d 00:00:00")


async def export(proxy, metric: str, **params) -> dict:
    response = await proxy.get(f"/api/v1/metric/{metric}/export", params={"api_key": PRIVATE_KEY, **params})
    assert response.status == 200, await response.text()
    body = await response.json()
    assert list(body) == ANSWER_KEYS
    return body


def window() -> dict[str, str]:
    """The last ten days up to today, as legacy dates."""
    today = datetime.now(UTC).date()
    return {"start_date": (today - timedelta(days=9)).isoformat(), "end_date": today.isoformat()}


async def test_the_default_export_counts_a_month_of_events_per_day(proxy, contract, account, placed_order):
    body = await export(proxy, placed_order.id)
    assert list(body["metric"]) == METRIC_KEYS and body["metric"]["id"] == placed_order.id
    assert (body["unit"], body["measurement"], body["where"], body["by"]) == ("day", ["count"], [], "")
    (everyone,) = body["results"]
    assert everyone["segment"] == "everyone"
    per_day = {point["date"]: point["values"] for point in everyone["data"]}
    assert list(per_day)[0] == body["start_date"] and list(per_day)[-1] == body["end_date"]
    expected = Counter(day_of(e.timestamp) for e in account.events if e.metric_id == placed_order.id)
    assert {day: values for day, values in per_day.items() if values != [0.0]} == {d: [float(n)] for d, n in expected.items()}
    assert [request.path for request in contract.requests] == [f"/api/metrics/{placed_order.id}", "/api/metric-aggregates"]


async def test_values_uniques_and_sums_in_the_order_asked(proxy, account, placed_order):
    # python-klaviyo also repeats the metric id as a query parameter.
    body = await export(proxy, placed_order.id, measurement='["count","value","unique"]', metric_id=placed_order.id, **window())
    events = [e for e in account.events if e.metric_id == placed_order.id and day_of(e.timestamp) >= body["start_date"]]
    totals = [sum(point["values"][i] for point in body["results"][0]["data"]) for i in range(3)]
    assert totals[0] == len(events)
    assert totals[1] == pytest.approx(sum(e.event_properties["$value"] for e in events))
    assert totals[2] <= len(events)


def mid_week_window() -> dict[str, str]:
    """Ten days starting on a Wednesday after the 1st of its month, ending by today."""
    start = datetime.now(UTC).date() - timedelta(days=40)
    while start.weekday() != 2 or start.day == 1:
        start += timedelta(days=1)
    return {"start_date": start.isoformat(), "end_date": (start + timedelta(days=9)).isoformat()}


@pytest.mark.parametrize(("unit", "step"), [("week", 7), ("month", None)])
async def test_weeks_and_months_start_no_earlier_than_start_date(proxy, account, placed_order, unit, step):
    body = await export(proxy, placed_order.id, unit=unit, **mid_week_window())
    dates = [datetime.fromisoformat(point["date"]) for point in body["results"][0]["data"]]
    # The first bucket is dated from start_date, not from its Monday or its 1st.
    assert body["results"][0]["data"][0]["date"] == body["start_date"]
    if step:
        assert all(date.weekday() == 0 for date in dates[1:])
        assert (dates[1] - dates[0]).days == 5  # Wednesday to the following Monday
        assert all((b - a).days == step for a, b in zip(dates[1:], dates[2:]))
    else:
        assert all(date.day == 1 for date in dates[1:])


async def test_by_segments_on_a_dimension(proxy, account, placed_order):
    body = await export(proxy, placed_order.id, by="$attributed_flow", count="1")
    (top,) = body["results"]
    counts = Counter(e.event_properties.get("$attributed_flow") for e in account.events if e.metric_id == placed_order.id)
    flow, most = max(((flow, n) for flow, n in counts.items() if flow), key=lambda pair: pair[1])
    assert top["segment"] == flow and sum(point["values"][0] for point in top["data"]) == most
    assert body["by"] == "$attributed_flow"


async def test_where_filters_on_a_dimension(proxy, account, placed_order):
    where = [["$attributed_flow", "=", "R8fLwz"]]
    body = await export(proxy, placed_order.id, where=json.dumps(where))
    expected = sum(1 for e in account.events if e.event_properties.get("$attributed_flow") == "R8fLwz")
    assert sum(point["values"][0] for point in body["results"][0]["data"]) == expected
    assert body["where"] == where


async def test_unix_dates_are_accepted(proxy, placed_order):
    start = datetime(2026, 1, 5, 13, tzinfo=UTC).timestamp()
    body = await export(proxy, placed_order.id, start_date=str(int(start)), end_date=str(int(start) + 86_400))
    assert (body["start_date"], body["end_date"]) == ("2026-01-05 00:00:00", "2026-01-06 00:00:00")
    assert len(body["results"][0]["data"]) == 2


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"unit": "year"}, "unit"),
        ({"measurement": "average"}, "measurement"),
        ({"measurement": '["sum","ItemCount"]'}, "measurement"),
        ({"start_date": "yesterday", "end_date": "2026-01-02"}, "start_date"),
        ({"start_date": "2026-01-01"}, "end_date"),
        ({"start_date": "2026-01-01", "end_date": "2026-03-01"}, "end_date"),
        ({"where": "[[", "by": "URL"}, "where"),
        ({"where": '[["URL","=","x"]]', "by": "URL"}, "where"),
        ({"by": "ProductName"}, "by"),
        ({"count": "none"}, "count"),
    ],
)
async def test_what_cannot_be_exported_is_a_v1_400_naming_the_parameter(proxy, contract, placed_order, params, named):
    response = await proxy.get(f"/api/v1/metric/{placed_order.id}/export", params={"api_key": PRIVATE_KEY, **params})
    assert response.status == 400
    body = await response.json()
    assert body["status"] == 400 and body["message"].startswith(f"Invalid value for {named}")
    assert contract.requests == []


async def test_an_unknown_metric_is_the_v1_404(proxy, contract):
    response = await proxy.get("/api/v1/metric/nope00/export", params={"api_key": PRIVATE_KEY})
    assert response.status == 404
    assert await response.json() == {"status": 404, "message": "The requested resource does not exist."}
    assert [request.path for request in contract.requests] == ["/api/metrics/nope00"]

