"""Prometheus metrics, served at `/metrics`. Labels are route and operation templates,
never keys, tokens or ids, so their number stays bounded.

Those observed on every request are plain counters and histograms: prometheus_client's own
metrics lock and check on every increment (a histogram observation is two locked
increments), which cost a track several microseconds for its six per-request observations.
A plain one keeps a label set's numbers in one small object and does the work once per
scrape instead, through prometheus_client's Custom Collector API: it exposes the same names,
HELP and TYPE lines, labels in the same order, values, `_created` series and `le` texts as
a prometheus_client Counter or Histogram would (`tests/unit/test_plain_metrics.py` compares
the two in both exposition formats). They are observed only on the event loop's thread,
where nothing runs between the read and the write of an increment, so they need no lock.
Each process (each worker) has its own, as it has its own registry.
"""

from __future__ import annotations

import functools
import time
from bisect import bisect_left
from collections.abc import Iterator, Sequence
from typing import Generic, TypeVar

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client import metrics as client_metrics
from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.samples import Sample
from prometheus_client.utils import INF, floatToGoString


def _created_series() -> bool:
    """Whether prometheus_client exports `_created` series (on by default; turned off by
    `PROMETHEUS_DISABLE_CREATED_SERIES` or `disable_created_metrics()`): these follow the
    library's own metrics. The library keeps the switch as a module attribute only."""
    return getattr(client_metrics, "_use_created", True)  # a release without the switch exports them


Child = TypeVar("Child")


class _Labelled(Generic[Child]):
    """A metric family with label names: one child per label values, made on first use
    (stamped with its creation time, as prometheus_client's children are), and registered
    in `registry` where it is made, so it keeps its place among the other metrics."""

    def __init__(self, name: str, documentation: str, labelnames: Sequence[str], registry: CollectorRegistry | None = REGISTRY) -> None:
        self._name, self._documentation, self._labelnames = name, documentation, tuple(labelnames)
        self._children: dict[tuple[str, ...], Child] = {}
        if registry is not None:
            registry.register(self)

    def _new_child(self) -> Child:
        raise NotImplementedError

    def labels(self, *labelvalues: object) -> Child:
        if len(labelvalues) != len(self._labelnames):
            raise ValueError(f"{self._name} takes labels {self._labelnames}, got {labelvalues!r}")
        key = tuple(map(str, labelvalues))
        try:
            return self._children[key]
        except KeyError:
            child = self._children[key] = self._new_child()
            return child


class Count:
    """A counter child: how many times it was counted, and since when."""

    __slots__ = ("value", "created")

    def __init__(self) -> None:
        self.value = 0
        self.created = time.time()

    def inc(self) -> None:
        self.value += 1


class PlainCounter(_Labelled[Count]):
    """A labelled counter that only ever counts by one."""

    def _new_child(self) -> Count:
        return Count()

    def collect(self) -> Iterator[Metric]:
        family = CounterMetricFamily(self._name, self._documentation, labels=self._labelnames)
        created = _created_series()
        for labelvalues, count in list(self._children.items()):
            family.add_metric(labelvalues, float(count.value), count.created if created else None)
        yield family


class Timing:
    """A histogram child: each observation counted in the first bucket whose upper bound is
    at least the value (so bucket by bucket, made cumulative when collected), and their sum.
    It times durations, never NaN (which prometheus_client would count in no bucket)."""

    __slots__ = ("_bounds", "counts", "sum", "created")

    def __init__(self, bounds: tuple[float, ...]) -> None:
        self._bounds = bounds
        self.counts = [0] * len(bounds)
        self.sum = 0.0
        self.created = time.time()

    def observe(self, seconds: float) -> None:
        self.counts[bisect_left(self._bounds, seconds)] += 1
        self.sum += seconds


class PlainHistogram(_Labelled[Timing]):
    """A labelled histogram over ascending, non-negative bucket bounds (+Inf added if missing)."""

    def __init__(
        self,
        name: str,
        documentation: str,
        labelnames: Sequence[str],
        buckets: Sequence[float],
        registry: CollectorRegistry | None = REGISTRY,
    ) -> None:
        self._bounds = tuple(float(bound) for bound in buckets)
        if self._bounds[-1] != INF:
            self._bounds += (INF,)
        if list(self._bounds) != sorted(self._bounds) or self._bounds[0] < 0:
            raise ValueError(f"{name}: bucket bounds must be ascending and not negative")
        self._le = [floatToGoString(bound) for bound in self._bounds]
        super().__init__(name, documentation, labelnames, registry)

    def _new_child(self) -> Timing:
        return Timing(self._bounds)

    def collect(self) -> Iterator[Metric]:
        family = HistogramMetricFamily(self._name, self._documentation, labels=self._labelnames)
        created = _created_series()
        for labelvalues, timing in list(self._children.items()):
            cumulative, buckets = 0.0, []
            for le, count in zip(self._le, timing.counts):
                cumulative += count
                buckets.append((le, cumulative))
            family.add_metric(labelvalues, buckets, timing.sum)
            if created:  # the family has no argument for it; prometheus_client's histograms end with it
                family.samples.append(Sample(f"{self._name}_created", dict(zip(self._labelnames, labelvalues)), timing.created))
        yield family


# Upstream answers in tens of ms; governor waits and delivery lag run to minutes.
_FAST = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
_SLOW = (0.01, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900, 3600)

LEGACY_REQUESTS = PlainCounter("klp_legacy_requests", "Legacy requests answered", ["route", "status"])
LEGACY_SECONDS = PlainHistogram("klp_legacy_request_seconds", "Time to answer a legacy request", ["route"], buckets=_FAST)

UPSTREAM_CALLS = PlainCounter("klp_upstream_calls", "Upstream calls by outcome", ["operation", "status"])
UPSTREAM_SECONDS = PlainHistogram("klp_upstream_call_seconds", "Upstream call latency", ["operation"], buckets=_FAST)
RETRIES = Counter("klp_upstream_retries", "Upstream calls sent again", ["operation", "reason"])

GOVERNOR_WAIT_SECONDS = PlainHistogram(
    "klp_governor_wait_seconds", "Time a request waited for rate budget", ["operation"], buckets=_SLOW
)
GOVERNOR_REFUSALS = Counter(
    "klp_governor_refusals", "Requests refused because budget was further away than allowed", ["operation"]
)
RATE_BUDGET_TAKES = PlainCounter(
    "klp_rate_budget_takes",
    "Shared rate budget reservations, by what answered them: this process's lease, or a trip to the shared store",
    ["source"],
)

# Per-key state is capped so a flood of distinct keys cannot grow the process; what a cap
# pushes out (least recently used first) or folds into "(other keys)" is counted here.
KEPT_EVICTIONS = Counter(
    "klp_kept_evictions", "Per-key entries dropped or folded to stay within their cap", ["kept"]
)

SPOOL_ACCEPTED = Counter("klp_spool_accepted", "Writes durably stored in the spool", ["kind"])
SPOOL_COMMIT_SIZE = Histogram(
    "klp_spool_commit_size", "Writes made durable by one commit (group commit)", buckets=(1, 2, 5, 10, 50, 100, 500, 1000)
)
SPOOL_DELIVERED = Counter("klp_spool_delivered", "Spooled writes delivered upstream", ["kind", "via"])
SPOOL_DEAD_LETTERED = Counter("klp_spool_dead_lettered", "Spooled writes upstream refused for good", ["kind"])
SPOOL_DELIVERY_LAG = Histogram(
    "klp_spool_delivery_lag_seconds", "From acceptance to upstream's 202", ["kind"], buckets=_SLOW
)
SPOOL_REFUSED = Counter(
    "klp_spool_refused", "Writes the spool refused (undeliverable, spool full, store unreachable); answered 0", ["kind", "reason"]
)
SPOOL_DEAD_DROPPED = Counter("klp_spool_dead_dropped", "Dead letters dropped past the count or age limit", ["limit"])
SPOOL_BYTES = Gauge("klp_spool_pending_bytes", "Bytes of write bodies waiting for delivery")
SPOOL_DEPTH = Gauge("klp_spool_depth", "Writes waiting for delivery")
SPOOL_OLDEST_SECONDS = Gauge("klp_spool_oldest_age_seconds", "Age of the oldest write waiting for delivery")
SPOOL_DEAD = Gauge("klp_spool_dead_letters", "Writes in the dead-letter table")


def exposition(accept: str) -> tuple[bytes, str]:
    """Every metric in the format the scraper asked for (its Accept header), and its content type."""
    encode, content_type = choose_encoder(accept)
    return encode(REGISTRY), content_type


@functools.lru_cache(maxsize=4096)  # labels are templates: far fewer combinations than this
def child(metric: PlainCounter | PlainHistogram, *labels: str) -> Count | Timing:
    """A metric's labelled child, found with one hash of its arguments: `labels()` checks
    and converts them on every call, and the request path observes several per request."""
    return metric.labels(*labels)


class Answered:
    """A counter labelled (name, status) and a latency histogram labelled (name), counted
    together once per answer. Both children of a name and status are found with one dict
    lookup (`child` would hash its arguments twice and turn the status into text). As many
    entries as the counter has children: no bound of its own is needed."""

    def __init__(self, counter: PlainCounter, latency: PlainHistogram) -> None:
        self._counter, self._latency = counter, latency
        self._children: dict[tuple[str, int], tuple[Count, Timing]] = {}

    def observe(self, name: str, status: int, seconds: float) -> None:
        try:
            counted, timed = self._children[name, status]
        except KeyError:
            counted, timed = self._children[name, status] = self._counter.labels(name, str(status)), self._latency.labels(name)
        counted.inc()
        timed.observe(seconds)


LEGACY_ANSWERED = Answered(LEGACY_REQUESTS, LEGACY_SECONDS)  # per legacy route
UPSTREAM_ANSWERED = Answered(UPSTREAM_CALLS, UPSTREAM_SECONDS)  # per upstream operation
