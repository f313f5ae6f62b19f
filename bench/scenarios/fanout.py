"""2. Fan-out: with 20 ms per upstream call, the legacy campaign read (the campaign and
its message with the template at once, then its lists and segments at once: four calls in
two rounds) against the one-call metrics read, both open loop at the same modest rate so
latency is measured without queueing."""

from __future__ import annotations

from bench.harness import METRICS, Row, Target, measured, proxy, upstream
from bench.upstream import RECORDED
from proxy.sandbox.seed import DEMO_PRIVATE_KEY

SCENARIO = "fan-out"
LATENCY_MS = 20
RATE = 100  # legacy requests/s: a fraction of what the proxy serves, so nothing queues
CAMPAIGN = f"/api/v1/campaign/{RECORDED['campaign_id']}?api_key={DEMO_PRIVATE_KEY}"


def run(duration: float, smoke: bool) -> list[Row]:
    rate = RATE / 5 if smoke else RATE
    with upstream(latency_ms=LATENCY_MS) as up, proxy(up.base) as px:
        rows = [
            measured(SCENARIO, f"upstream direct, 1 call of {LATENCY_MS} ms", up, up.base + "/api/metrics", duration, rate=rate),
            measured(SCENARIO, "proxy GET /api/v1/metrics (1 call)", px, px.base + METRICS, duration, rate=rate),
            measured(SCENARIO, "proxy GET /api/v1/campaign/{id} (4 calls, 2 rounds)", px, px.base + CAMPAIGN, duration, rate=rate),
        ]
    _, one_call, campaign = rows
    campaign.targets.append(Target("p50 vs the one-call route", round(campaign.p50_ms / one_call.p50_ms, 2), 1.3, unit="×"))
    for row in rows:
        row.notes.append(f"open loop at {rate:g} req/s")
    return rows
