"""2. Fan-out: with 20 ms per upstream call, the legacy campaign read (the campaign and
its message with the template at once, then its lists and segments at once: four calls in
two rounds cold; one round warm, once the lookups cache holds its lists and segments)
against a one-call read, both open loop at the same modest rate so latency is measured
without queueing. The one-call route is the v2 list read: a single `GET /api/lists/{id}`
every time (the v1 metrics read is served from a kept page walk when warm, so it no longer
makes a call per request and would flatter nothing but the baseline)."""

from __future__ import annotations

from bench.harness import Row, Target, measured, proxy, upstream
from bench.upstream import RECORDED
from proxy.sandbox.seed import DEMO_PRIVATE_KEY

SCENARIO = "fan-out"
LATENCY_MS = 20
RATE = 100  # legacy requests/s: a fraction of what the proxy serves, so nothing queues
CAMPAIGN = f"/api/v1/campaign/{RECORDED['campaign_id']}?api_key={DEMO_PRIVATE_KEY}"
ONE_CALL = f"/api/v2/list/{RECORDED['group_id']}?api_key={DEMO_PRIVATE_KEY}"


def run(duration: float, smoke: bool) -> list[Row]:
    rate = RATE / 5 if smoke else RATE
    with upstream(latency_ms=LATENCY_MS) as up, proxy(up.base) as px:
        rows = [
            measured(SCENARIO, f"upstream direct, 1 call of {LATENCY_MS} ms", up, up.base + "/api/metrics", duration, rate=rate),
            measured(SCENARIO, "proxy GET /api/v2/list/{id} (1 call)", px, px.base + ONE_CALL, duration, rate=rate),
            measured(SCENARIO, "proxy GET /api/v1/campaign/{id} (warm: 2 calls, 1 round)", px, px.base + CAMPAIGN, duration, rate=rate),
        ]
    _, one_call, campaign = rows
    campaign.targets.append(Target("p50 vs the one-call route", round(campaign.p50_ms / one_call.p50_ms, 2), 1.3, unit="×"))
    for row in rows:
        row.notes.append(f"open loop at {rate:g} req/s")
    return rows
