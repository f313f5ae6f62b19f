"""Failures the fuzzers found, pinned as plain examples so they stay fixed."""

from __future__ import annotations

import re

import orjson
import pytest
import requests
from legacy_dialects import assert_legacy_answer

from proxy.config import Settings
from proxy.mapping.table import load_table
from proxy.sandbox import DEMO_PRIVATE_KEY
from proxy.shapes.event import legacy_event
from proxy.shapes.timefmt import legacy_datetime, legacy_event_datetime, legacy_iso

PAGED_ROUTES = [entry.path for entry in load_table(Settings().mappings_dir) if "page" in entry.params]
# Each legacy time style (legacy contract §1.4) and the text it must fill.
TIME_STYLES = {
    legacy_datetime: r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d",
    legacy_iso: r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ",
    legacy_event_datetime: r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\+00:00",
}


@pytest.mark.parametrize("route", PAGED_ROUTES)
@pytest.mark.parametrize(("page", "count"), [(2**64 // 50 + 1, 50), (2**64, 50), (2**32, 2**32)])
def test_a_page_past_64_bits_gets_a_legacy_answer(live, route, page, count):
    """`page * count` (the envelope's `start`) or `page` itself outgrew what orjson
    writes: the answer was a 500. Each number alone may be small enough (2**32), and
    exclusions set no largest `count`."""
    mark = live.mark()
    response = requests.get(live.proxy_url + route, params={"api_key": DEMO_PRIVATE_KEY, "page": page, "count": count}, timeout=10)
    arrivals, _ = live.since(mark)
    assert_legacy_answer(f"GET {route}?page={page}&count={count}", route, response.status_code, response.content, arrivals)


@pytest.mark.parametrize("style", TIME_STYLES, ids=lambda style: style.__name__)
def test_years_before_1000_keep_their_four_digits(style):
    """strftime's %Y writes the year 999 as "999" on Linux."""
    assert re.fullmatch(TIME_STYLES[style], style("0999-01-01T00:00:00Z")), style("0999-01-01T00:00:00Z")


@pytest.mark.parametrize("value", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
@pytest.mark.parametrize("style", TIME_STYLES, ids=lambda style: style.__name__)
def test_instants_past_the_ends_of_the_calendar_do_not_raise(style, value):
    """Valid RFC 3339 whose UTC instant falls in year 0 or 10000: converting it to UTC
    raised OverflowError, and any listing holding one answered 500."""
    assert re.fullmatch(f"({TIME_STYLES[style]})?", style(value))


def test_an_event_timestamp_past_64_bits_is_written():
    """The spec sets no maximum on `timestamp`; orjson reads 2**64 as a float, `int()`
    makes it an integer again, and orjson cannot write that back: the timeline was a 500."""
    event = orjson.loads(b'{"type": "event", "id": "e", "attributes": {"timestamp": 18446744073709551616}, "links": {"self": "x"}}')
    orjson.dumps(legacy_event(event, {}))



def test_page_times_count_past_64_bits_gets_a_legacy_answer(live):
    """Each below the bound, their product (the envelope's `start`) was not: a 500."""
    mark = live.mark()
    route = "/api/v1/people/exclusions"
    params = {"api_key": DEMO_PRIVATE_KEY, "page": 2**32, "count": 2**32}
    response = requests.get(live.proxy_url + route, params=params, timeout=10)
    arrivals, _ = live.since(mark)
    assert_legacy_answer(f"GET {route}?page=2**32&count=2**32", route, response.status_code, response.content, arrivals)
    assert response.status_code == 400
