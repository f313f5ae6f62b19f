"""Metric export: legacy parameters → one aggregate query, and the aggregate → the legacy answer."""

from datetime import date

import pytest

from proxy.sandbox.resources import metric_aggregates
from proxy.shapes.export import legacy_export
from proxy.shapes.export_input import DIMENSIONS, InvalidExport, export_plan

TODAY = date(2024, 3, 31)
DEFAULTS = {"unit": "day", "measurement": "count", "count": 25}


def plan(**params):
    return export_plan("Xy12Ab", {**DEFAULTS, **params}, TODAY)


def attributes(**params):
    return plan(**params).body["data"]["attributes"]


def test_defaults_cover_the_last_month_in_utc_days():
    exported = plan()
    assert exported.body == {
        "data": {
            "type": "metric-aggregate",
            "attributes": {
                "metric_id": "Xy12Ab",
                "measurements": ["count"],
                "interval": "day",
                "filter": ["greater-or-equal(datetime,2024-02-29T00:00:00)", "less-than(datetime,2024-04-01T00:00:00)"],
                "timezone": "UTC",
            },
        }
    }
    assert exported.echo == {
        "start_date": "2024-02-29 00:00:00", "end_date": "2024-03-31 00:00:00", "unit": "day",
        "measurement": ["count"], "where": [], "by": "",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("start", "end", "first", "last"),
    [
        ("2024-01-05", "2024-01-06", "2024-01-05", "2024-01-07"),
        ("1704412800", "1704585599", "2024-01-05", "2024-01-07"),  # Unix seconds name their UTC day
        ("2024-01-31", "2024-03-02", "2024-01-31", "2024-03-03"),  # 31 days apart is allowed
    ],
)
def test_dates_become_a_whole_day_range(start, end, first, last):
    assert attributes(start_date=start, end_date=end)["filter"] == [
        f"greater-or-equal(datetime,{first}T00:00:00)",
        f"less-than(datetime,{last}T00:00:00)",
    ]


def test_an_end_date_alone_keeps_the_default_start():
    assert plan(end_date="2024-03-10").echo["start_date"] == "2024-02-29 00:00:00"


@pytest.mark.parametrize(
    ("measurement", "expected", "echo"),
    [
        ("value", ["sum_value"], ["value"]),
        ('"unique"', ["unique"], ["unique"]),
        ('["sum","$value"]', ["sum_value"], ["sum", "$value"]),
        ('[["value","sum"]]', ["sum_value"], [["value", "sum"]]),
        ('["count","unique","count"]', ["count", "unique"], ["count", "unique", "count"]),
    ],
)
def test_measurement_forms(measurement, expected, echo):
    exported = plan(measurement=measurement)
    assert exported.body["data"]["attributes"]["measurements"] == expected
    assert exported.echo["measurement"] == echo


def test_by_asks_for_the_top_segments_of_the_first_measurement():
    found = attributes(by="$attributed_flow", measurement="unique", count=10)
    assert (found["by"], found["sort"], found["page_size"]) == (["$attributed_flow"], "-unique", 10)


@pytest.mark.parametrize(
    ("where", "condition"),
    [
        ([["$attributed_flow", "=", "R8f\"Lwz"]], 'equals($attributed_flow,"R8f\\"Lwz")'),
        ([["URL", "=", 5]], 'equals(URL,"5")'),
    ],
)
def test_where_becomes_an_equals_filter(where, condition):
    assert attributes(where=where)["filter"][2] == condition


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"start_date": "2024-13-01", "end_date": "2024-01-02"}, "start_date"),
        ({"start_date": "2024-01-01"}, "end_date"),
        ({"start_date": "2024-01-05", "end_date": "2024-01-04"}, "end_date"),
        ({"start_date": "2024-01-01", "end_date": "2024-02-02"}, "end_date"),
        ({"measurement": "median"}, "measurement"),
        ({"measurement": '["sum","ItemCount"]'}, "measurement"),
        ({"measurement": "[]"}, "measurement"),
        ({"where": [["URL", ">", 5]]}, "where"),
        ({"where": [["a", "=", 1], ["b", "=", 2]]}, "where"),
        ({"where": [["ItemCount", "=", 5]]}, "where"),
        ({"where": [["Campaign Name", "=", "x"]]}, "where"),
        ({"where": [["URL", "=", "x"]], "by": "Subject"}, "where"),
        ({"by": "ItemCount"}, "by"),
    ],
)
def test_what_the_new_api_cannot_say_names_the_parameter(params, named):
    with pytest.raises(InvalidExport, match=f"^Invalid value for {named}: "):
        plan(**params)


def test_both_dimension_lists_are_the_specs(spec):
    schema = spec.by_id("query_metric_aggregates").request_schema
    by = spec.resolve(schema["properties"]["data"])["properties"]["attributes"]["properties"]["by"]
    assert list(DIMENSIONS) == list(metric_aggregates.DIMENSIONS) == by["items"]["enum"]


METRIC = {"object": "metric", "id": "Xy12Ab", "name": "Placed Order"}


def aggregate(*rows, dates=("2024-01-05T00:00:00+00:00", "2024-01-06T00:00:00+00:00")):
    return {"type": "metric-aggregate", "id": "01H", "attributes": {"dates": list(dates), "data": list(rows)}}


def test_the_legacy_answer_starts_with_the_metric_and_ends_with_results():
    exported = plan(measurement='["count","value"]', start_date="2024-01-05", end_date="2024-01-06")
    row = {"dimensions": [], "measurements": {"count": [3, 0], "sum_value": [16.5, 0]}}
    answer = legacy_export(METRIC, exported, aggregate(row))
    assert list(answer) == ["metric", "start_date", "end_date", "unit", "measurement", "where", "by", "results"]
    assert answer["results"] == [
        {"segment": "everyone", "data": [
            {"date": "2024-01-05 00:00:00", "values": [3.0, 16.5]},
            {"date": "2024-01-06 00:00:00", "values": [0.0, 0.0]},
        ]},
    ]  # fmt: skip


def test_segments_are_the_rows_dimension_values():
    exported = plan(by="$attributed_flow")
    rows = [{"dimensions": ["F1"], "measurements": {"count": [2, 1]}}, {"dimensions": ["F2"], "measurements": {"count": [1]}}]
    answer = legacy_export(METRIC, exported, aggregate(*rows))
    assert [(r["segment"], [d["values"] for d in r["data"]]) for r in answer["results"]] == [
        ("F1", [[2.0], [1.0]]),
        ("F2", [[1.0], [0.0]]),
    ]


def test_a_week_bucket_that_began_before_start_date_is_dated_from_it():
    exported = plan(unit="week", start_date="2024-01-03", end_date="2024-01-12")  # a Wednesday
    row = {"dimensions": [], "measurements": {"count": [2, 5]}}
    answer = legacy_export(METRIC, exported, aggregate(row, dates=("2024-01-01T00:00:00+00:00", "2024-01-08T00:00:00+00:00")))
    assert [point["date"] for point in answer["results"][0]["data"]] == ["2024-01-03 00:00:00", "2024-01-08 00:00:00"]
