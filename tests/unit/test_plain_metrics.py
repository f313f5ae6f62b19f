"""The plain counters and histograms expose exactly what prometheus_client's Counter and
Histogram expose for the same observations, in both exposition formats `/metrics` serves."""

from __future__ import annotations

import random
import time

import pytest
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client import metrics as client_metrics
from prometheus_client.openmetrics.exposition import generate_latest as generate_openmetrics

from proxy import metrics
from proxy.metrics import PlainCounter, PlainHistogram

BOUNDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
# On a bound, either side of one, far past the last, zero and tiny, and a spread in between.
EDGES = [0, 1e-9, 0.005, 0.0049999, 0.0050001, 0.25, 1, 1.0000001, 30, 30.5, 3600, 1e12]


def _observed(registry: CollectorRegistry, counter: type, histogram: type) -> None:
    requests = counter("klp_example_requests", "Requests answered", ["route", "status"], registry=registry)
    seconds = histogram("klp_example_seconds", "Time to answer", ["route"], buckets=BOUNDS, registry=registry)
    lone = histogram("klp_example_lone_seconds", "A histogram that saw nothing", ["route"], buckets=BOUNDS, registry=registry)
    numbers = random.Random(15)
    for value in EDGES + [numbers.uniform(0, 40) for _ in range(500)] + [numbers.expovariate(200) for _ in range(500)]:
        seconds.labels("POST /api/track").observe(value)  # many values, across every bucket
        requests.labels("POST /api/track", 200).inc()
    seconds.labels("GET /api/v1/metrics").observe(0.02)
    requests.labels("GET /api/v1/metrics", "404").inc()
    requests.labels("(unmapped)", 499).inc()
    assert lone  # a family without children still has its HELP and TYPE lines


@pytest.fixture
def stamped(monkeypatch):
    """Children stamped with one creation time, so `_created` series compare."""
    monkeypatch.setattr(time, "time", lambda: 1764670000.125)


@pytest.mark.parametrize("encode", [generate_latest, generate_openmetrics], ids=["text 0.0.4", "OpenMetrics"])
@pytest.mark.parametrize("created", [True, False], ids=["with _created", "created series disabled"])
def test_plain_metrics_expose_what_prometheus_client_metrics_would(stamped, monkeypatch, encode, created):
    monkeypatch.setattr(client_metrics, "_use_created", created)
    library, plain = CollectorRegistry(auto_describe=True), CollectorRegistry(auto_describe=True)
    _observed(library, Counter, Histogram)
    _observed(plain, PlainCounter, PlainHistogram)

    exposed = encode(plain)
    assert exposed == encode(library)
    assert b"} 1012.0\n" in exposed  # every value of the busy route counted
    assert (b"_created" in exposed) is created


def test_a_child_takes_exactly_its_label_values():
    counter = PlainCounter("klp_example_requests", "Requests answered", ["route", "status"], registry=None)
    with pytest.raises(ValueError):
        counter.labels("POST /api/track")
    assert counter.labels("POST /api/track", 200) is counter.labels("POST /api/track", "200")


def test_histogram_bounds_must_ascend():
    with pytest.raises(ValueError):
        PlainHistogram("klp_example_seconds", "Time", ["route"], buckets=(1, 0.5), registry=None)


def test_the_proxy_exposes_its_per_request_metrics_in_declaration_order():
    """The plain metrics keep their place among prometheus_client's own in `/metrics`."""
    body, _ = metrics.exposition("text/plain")
    types = [line.split()[2] for line in body.decode().splitlines() if line.startswith("# TYPE klp_")]
    families = [name for name in types if not name.endswith("_created")]  # the text format's own families for those
    assert families[:8] == [
        "klp_legacy_requests_total",
        "klp_legacy_request_seconds",
        "klp_upstream_calls_total",
        "klp_upstream_call_seconds",
        "klp_upstream_retries_total",
        "klp_governor_wait_seconds",
        "klp_governor_refusals_total",
        "klp_rate_budget_takes_total",
    ]
