"""The benchmark scenarios of issue 8, in its order. Each module's `run(duration, smoke)`
runs its contenders side by side (`duration`: seconds of load per contender, where the
scenario is not a fixed-size walk or window) and returns one table row per contender."""

from __future__ import annotations

from collections.abc import Callable

from bench.harness import Row
from bench.scenarios import fanout, ingestion, overhead, scale, streaming

SCENARIOS: dict[str, Callable[[float, bool], list[Row]]] = {
    "overhead": overhead.run,
    "fanout": fanout.run,
    "streaming": streaming.run,
    "ingestion": ingestion.run,
    "scale": scale.run,
}
