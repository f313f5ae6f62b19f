"""5. Scale: the proxy with two workers sharing the port against one worker."""

from __future__ import annotations

import time

from bench.harness import METRICS, Row, Target, measured, proxy, upstream


def run(duration: float, smoke: bool) -> list[Row]:
    rows = []
    with upstream() as up:
        for workers in (1, 2):
            with proxy(up.base, workers=workers) as px:
                time.sleep(0.5 * workers)  # every worker bound
                rows.append(measured("scale", f"proxy, {workers} worker(s)", px, px.base + METRICS, duration, connections=64, python=smoke))
    one, two = rows
    two.targets.append(Target("throughput vs one worker", round(two.rps / one.rps, 2), 1.6, at_least=True, unit="×"))
    return rows
