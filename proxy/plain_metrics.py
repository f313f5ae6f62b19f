"""Counters and histograms for the metrics observed on every request, kept as plain Python
numbers and read by `/metrics` through a custom collector (prometheus_client's Custom
Collector API).

prometheus_client's own metrics lock and check on every increment (a histogram observation
is two locked increments), which cost a track several microseconds for its six per-request
observations. These keep a label set's numbers in one small object and do the work once per
scrape instead: they expose the same names, HELP and TYPE lines, labels in the same order,
values, `_created` series and `le` texts as prometheus_client's Counter and Histogram would
(`tests/unit/test_plain_metrics.py` compares the two in both exposition formats).

They are observed only on the event loop's thread, where nothing runs in between the read
and the write of an increment, so they need no lock. Each process (each worker) has its
own, as it has its own registry.
"""

from __future__ import annotations

import time
from bisect import bisect_left
from collections.abc import Iterator, Sequence
from typing import Generic, TypeVar

from prometheus_client import REGISTRY, CollectorRegistry
from prometheus_client import metrics as client_metrics
from prometheus_client.metrics_core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.samples import Sample
from prometheus_client.utils import INF, floatToGoString


def _created_series() -> bool:
    """Whether prometheus_client exports `_created` series (on by default; turned off by
    `PROMETHEUS_DISABLE_CREATED_SERIES` or `disable_created_metrics()`): these follow the
    library's own metrics. The library keeps the switch as a module attribute only."""
    return client_metrics._use_created


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
