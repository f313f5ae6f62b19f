"""3. Streaming: `GET /api/v2/group/{id}/members/all` walked to the end (each batch's
`marker` into the next request) over a generated list, against walking the upstream's
own pages (`links.next`). The proxy's RSS is sampled throughout: its growth over the
walk is what holding one page at a time should keep small, whatever the list's size."""

from __future__ import annotations

import urllib.request

from bench.harness import Row, Server, Target, Usage, proxy, run_json, upstream
from bench.upstream import RECORDED
from proxy.sandbox.seed import DEMO_PRIVATE_KEY

SCENARIO = "streaming"
MEMBERS = 100_000
SMOKE_MEMBERS = 2_000
GROUP = RECORDED["group_id"]


def run(_duration: float, smoke: bool) -> list[Row]:
    members = SMOKE_MEMBERS if smoke else MEMBERS
    legacy = f"/api/v2/group/{GROUP}/members/all?api_key={DEMO_PRIVATE_KEY}"
    with upstream(members=members) as up, proxy(up.base) as px:
        direct, direct_pace = _walked(f"upstream direct, pages of 100 ({members:,} members)", up, f"{up.base}/api/lists/{GROUP}/profiles?page%5Bsize%5D=100", "links", members)
        with urllib.request.urlopen(px.base + legacy) as first_batch:  # warm-up: imports, caches, the group probe
            first_batch.read()
        walked, pace = _walked(f"proxy members/all, marker batches of 1,000 ({members:,} members)", px, px.base + legacy, "marker", members)
    walked.notes.append(f"{pace / direct_pace:.2f}× the upstream's time per 1,000 records")
    return [direct, walked]


def _walked(contender: str, target: Server, url: str, follow: str, members: int) -> tuple[Row, float]:
    """The walk's row, and its milliseconds per 1,000 records."""
    with Usage(target) as usage:
        result = run_json("-m", "bench.walk", url, "--follow", follow)
    ms_per_1000 = result["seconds"] * 1000 / max(result["records"], 1) * 1000
    growth = round(usage.rss_growth_mb, 1)
    row = Row(
        SCENARIO, contender, round(result["requests"] / result["seconds"], 1), result["p50_ms"], result["p99_ms"],
        usage.cpu_ms_per(result["requests"]), round(usage.peak_rss_mb, 1),
        result["errors"] + (result["records"] != members), usage.others_cpu,
    )  # fmt: skip
    row.notes += [
        f"{result['records']:,} records in {result['requests']} requests, {ms_per_1000:.1f} ms per 1,000 records",
        f"RSS growth {growth} MB",
    ]
    if follow == "marker":
        row.targets.append(Target("peak RSS growth over the walk", growth, 50, unit=" MB"))
    return row, ms_per_1000
