"""Prometheus metrics, served at `/metrics`. Labels are route and operation templates,
never keys, tokens or ids, so their number stays bounded. Those observed on every request
are `proxy.plain_metrics` ones: the same series, without prometheus_client's lock and
checks on each increment."""

from __future__ import annotations

import functools

from prometheus_client import REGISTRY, Counter, Gauge, Histogram
from prometheus_client.exposition import choose_encoder

from proxy.plain_metrics import Count, PlainCounter, PlainHistogram, Timing

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
