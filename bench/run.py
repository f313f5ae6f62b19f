"""Run every benchmark scenario side by side and write bench/results/latest.{md,png}.

Each contender is a separate server process; load comes from another process (bench.load,
bench.walk). `--smoke` runs every scenario for a moment and judges no targets, so the
harness never rots.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from bench.harness import ROOT, Row, Target
from bench.scenarios import SCENARIOS

NOISY = 0.1  # share of the machine's CPU taken by others past which a row's numbers are suspect


def write_report(rows: list[Row], out: Path, smoke: bool, seconds: float) -> None:
    out.mkdir(parents=True, exist_ok=True)
    lines = [
        f"# Benchmarks ({'smoke run, no targets' if smoke else 'full run'})",
        "",
        (
            f"Machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}. "
            f"Load: {'asyncio client' if smoke else 'wrk / asyncio open loop'} in a separate process. Run took {seconds:.0f} s."
        ),
        "",
        (
            "`others' CPU`: the share of the machine's CPU that processes outside this run (other tests,"
            f" the hypervisor) took while the row was measured; past {NOISY:.0%} its throughput and latency"
            " are skewed (CPU ms/req and RSS much less so)."
        ),
        "",
        *_headline(rows),
        "| scenario | contender | CPU ms/req | CPU vs forwarder | req/s | p50 ms | p99 ms | peak RSS MB | errors | others' CPU | vs baseline, targets |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        cells = [r.scenario, r.contender, _cell(r.cpu_ms_per_request), _times(r.cpu_ratio), f"{r.rps:g}", f"{r.p50_ms:g}", f"{r.p99_ms:g}"]
        cells += [_cell(r.peak_rss_mb), _cell(r.errors), _share(r.others_cpu)]
        cells.append("; ".join([*r.notes, *map(str, r.targets)]))
        lines.append("| " + " | ".join(cells) + " |")
    if not smoke:
        lines += ["", "## Targets", ""]
        lines += [_verdict(r, t) for r in rows for t in r.targets]
    (out / "latest.md").write_text("\n".join(lines) + "\n")
    _chart(rows, out / "latest.png")


def _headline(rows: list[Row]) -> list[str]:
    """The overhead rows' CPU per request against the bare forwarder's, first."""
    compared = [r for r in rows if r.cpu_ratio is not None]
    if not compared:
        return []
    lines = ["**CPU per request vs the bare forwarder** (same run, CPU seconds of the server process):", ""]
    lines += [f"- {r.contender}: {r.cpu_ms_per_request:g} ms, {r.cpu_ratio:.2f}× ({r.rps:g} req/s, p99 {r.p99_ms:g} ms)" for r in compared]
    return [*lines, ""]


def _times(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}×"


def _cell(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def _share(value: float | None) -> str:
    return "" if value is None else f"{value:.0%}"


def _verdict(row: Row, target: Target) -> str:
    skewed = f" (skewed: others took {row.others_cpu:.0%} of the CPU)" if (row.others_cpu or 0) > NOISY else ""
    return f"- {'met' if target.met else 'MISSED'} — {row.scenario}: {target}{skewed}"


def _chart(rows: list[Row], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = [r for r in rows if r.cpu_ms_per_request is not None]
    figure, axis = plt.subplots(figsize=(10, 0.45 * len(shown) + 1.5))
    axis.barh([f"{r.scenario}: {r.contender}" for r in shown], [r.rps for r in shown], color="#4a7bd0")
    axis.set_xscale("log")  # scenarios differ by orders of magnitude (a track/s against a GET/s)
    axis.invert_yaxis()
    axis.set_xlabel("requests / second, log scale (higher is better)")
    axis.set_title("klaviyo-legacy-proxy benchmarks")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--duration", type=float, default=8.0, help="seconds of load per contender (fixed-size walks and windows aside)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    parser.add_argument("--only", choices=sorted(SCENARIOS))
    args = parser.parse_args()
    duration = 0.5 if args.smoke else args.duration
    started = time.monotonic()
    rows: list[Row] = []
    for name, scenario in SCENARIOS.items():
        if args.only in (None, name):
            rows += scenario(duration, args.smoke)
    write_report(rows, args.out, args.smoke, time.monotonic() - started)
    print((args.out / "latest.md").read_text())


if __name__ == "__main__":
    main()
