"""4. Track ingestion against the seeded sandbox served over HTTP, which enforces Klaviyo's
real limits and validates every request against the spec.

Contenders, each with its own sandbox and the proxy holding the account's private key,
both behind the rate governor and hammered by the same closed loop:
- the spool: track answers `1` once the event is stored; the worker delivers runs of
  events as bulk jobs;
- the sync path: one `POST /api/events` per track, answered `1` after Klaviyo's 202.
  It is measured over exactly one steady window (Klaviyo's windows start on the
  minute), because that window's cap is what limits it.

A track call is accepted when it is answered `1`; legacy track answers every failure,
throttling included, with HTTP 200 and `0`, so that is what a throttled legacy client
sees. Delivery is verified in the sandbox's own event count; throttling is read from the
proxy's /metrics (the governor's refusals, and upstream's 429s).
"""

from __future__ import annotations

import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import orjson
from prometheus_client.parser import text_string_to_metric_families

from bench.harness import TRACK_BODY, Row, Server, Target, Usage, load, proxy, server
from proxy.sandbox.seed import DEMO_PRIVATE_KEY, DEMO_PUBLIC_KEY

SCENARIO = "track ingestion"
STEADY_WINDOW = 60.0  # seconds; Klaviyo's steady windows start on the minute
WINDOW_START_MARGIN = 0.2  # start a hair after the window turns; wrk's whole seconds end before the next
SPOOL_SECONDS = 30.0
DRAIN_TIMEOUT = 240.0
SETTLED = 2.0  # seconds with an empty spool and no new event: delivery is over
POLL = 0.1


@dataclass(frozen=True)
class Outcome:
    calls: int  # track calls answered
    accepted: int  # answered `1`
    stored: int  # events the proxy took on (calls the closed loop left in flight at its end too)
    refused_by_governor: int  # would have waited too long for rate budget: answered `0`
    upstream_throttled: int  # upstream answers that were 429s
    upstream_writes: int  # upstream calls answered 202: one per event (sync) or per bulk job (spool)
    dead_letters: int
    delivered: int  # events the sandbox gained
    load_seconds: float
    delivery_seconds: float  # from the first track call to the last event delivered

    @property
    def accepted_per_second(self) -> float:
        return round(self.accepted / self.load_seconds, 1)

    @property
    def delivered_per_second(self) -> float:
        return round(self.delivered / self.delivery_seconds, 1)


def run(duration: float, smoke: bool) -> list[Row]:
    with tempfile.TemporaryDirectory() as spool_dir:
        spool_env = {"KLP_DELIVERY": "spool", "KLP_SPOOL_PATH": str(Path(spool_dir) / "spool.sqlite3")}
        spool, spooled = _contender("spool: bulk jobs", spool_env, duration if smoke else SPOOL_SECONDS, smoke)
    sync_seconds = duration if smoke else STEADY_WINDOW - 1
    sync, synced = _contender("sync: one call per event", {"KLP_DELIVERY": "sync"}, sync_seconds, smoke, one_window=not smoke)
    spool.notes.append(
        f"vs sync: {spooled.accepted_per_second / max(synced.accepted_per_second, 0.1):.1f}× accepted/s, "
        f"{spooled.delivered_per_second / max(synced.delivered_per_second, 0.1):.1f}× delivered/s"
    )
    spool.targets += [
        Target("upstream 429s with the spool", spooled.upstream_throttled, 0),
        Target("track calls refused with the spool", spooled.calls - spooled.accepted, 0),
        Target("stored events not delivered", spooled.stored - spooled.delivered, 0),
    ]
    return [spool, sync]


def _contender(name: str, delivery_env: dict[str, str], seconds: float, smoke: bool, one_window: bool = False) -> tuple[Row, Outcome]:
    env = {"KLP_PRIVATE_KEY": DEMO_PRIVATE_KEY, **delivery_env}
    sandbox_server = server("sandbox", "-m", "proxy.cli", "sandbox", "--port", "{port}")
    with sandbox_server as sandbox, proxy(sandbox.base, klaviyo_tiers=True, env=env) as px:
        before = _sandbox_events(sandbox)
        if one_window:
            time.sleep(STEADY_WINDOW - time.time() % STEADY_WINDOW + WINDOW_START_MARGIN)
        started = time.monotonic()
        with Usage(px) as usage:
            result = load(px.base + "/api/track", seconds, method="POST", body=TRACK_BODY, python=smoke, expect_body="1")
        stored = max(result["matched"], _metrics(px).get("klp_spool_accepted_total", 0))
        delivered, finished = _delivery(sandbox, px, before, stored, DRAIN_TIMEOUT)
        metrics = _metrics(px)
    outcome = Outcome(
        calls=result["requests"],
        accepted=result["matched"],
        stored=stored,
        refused_by_governor=metrics.get("klp_governor_refusals_total", 0),
        upstream_throttled=metrics.get("klp_upstream_calls_total|429", 0),
        upstream_writes=metrics.get("klp_upstream_calls_total|202", 0),
        dead_letters=metrics.get("klp_spool_dead_lettered_total", 0),
        delivered=delivered,
        load_seconds=result["requests"] / result["rps"],
        delivery_seconds=finished - started,
    )
    row = Row(
        SCENARIO, name, outcome.accepted_per_second, result["p50_ms"], result["p99_ms"],
        usage.cpu_ms_per(result["requests"]), round(usage.peak_rss_mb, 1), result["errors"], usage.others_cpu,
    )  # fmt: skip
    row.notes += [
        f"accepted (answered 1) {outcome.accepted_per_second:g}/s: {outcome.accepted:,} of {outcome.calls:,} calls in {outcome.load_seconds:.1f} s",
        f"delivered {outcome.delivered_per_second:g}/s: {delivered:,} events in the sandbox {outcome.delivery_seconds:.1f} s after the first call",
        f"throttled (answered 0, the legacy track's 429): {outcome.refused_by_governor:,}; upstream 429s: {outcome.upstream_throttled}",
        f"{outcome.upstream_writes:,} upstream writes, {delivered / max(outcome.upstream_writes, 1):.0f} events each on average",
    ]
    if outcome.dead_letters:
        row.notes.append(f"dead letters: {outcome.dead_letters}")
    return row, outcome


def _sandbox_events(sandbox: Server) -> int:
    with urllib.request.urlopen(sandbox.base + "/__sandbox/state") as response:
        state = orjson.loads(response.read())
    return next(account["events"] for account in state["accounts"] if account["public_key"] == DEMO_PUBLIC_KEY)


def _delivery(sandbox: Server, px: Server, before: int, stored: int, timeout: float) -> tuple[int, float]:
    """Events the sandbox gained and when it last gained one, once every stored event
    has arrived or the spool has been empty (the sync path has none) with nothing new
    arriving for a while: what is missing then was lost or dead-lettered."""
    deadline = time.monotonic() + timeout
    delivered, changed = -1, time.monotonic()
    while time.monotonic() < deadline:
        now = _sandbox_events(sandbox) - before
        if now != delivered:
            delivered, changed = now, time.monotonic()
        if delivered >= stored or (time.monotonic() - changed > SETTLED and not _metrics(px).get("klp_spool_depth")):
            break
        time.sleep(POLL)
    return delivered, changed


def _metrics(px: Server) -> dict[str, int]:
    """The proxy's /metrics, each sample summed over its labels but `status` (kept as
    `name|status`), e.g. `klp_upstream_calls_total|429`."""
    with urllib.request.urlopen(px.base + "/metrics") as response:
        text = response.read().decode()
    totals: dict[str, int] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            name = f"{sample.name}|{sample.labels['status']}" if "status" in sample.labels else sample.name
            totals[name] = totals.get(name, 0) + int(sample.value)
    return totals
