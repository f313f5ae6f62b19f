"""Run every benchmark scenario side by side and write bench/results/latest.{md,png}.

Each contender is a separate server process; load comes from another process (bench.load).
`--smoke` runs every scenario for a moment without targets, so the harness never rots.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import psutil

from proxy.sandbox.seed import DEMO_PRIVATE_KEY

ROOT = Path(__file__).resolve().parent.parent
TRACK_BODY = 'data={"token": "DemoPk", "event": "Bench", "customer_properties": {"$email": "bench@example.com"}}'
FORM = "application/x-www-form-urlencoded"


@dataclass
class Server:
    name: str
    process: subprocess.Popen
    port: int

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stats(self) -> psutil.Process:
        return psutil.Process(self.process.pid)


@dataclass
class Row:
    scenario: str
    contender: str
    rps: float
    p50_ms: float
    p99_ms: float
    cpu_ms_per_request: float | None = None
    peak_rss_mb: float | None = None
    ratio: str = ""
    extra: dict = field(default_factory=dict)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def server(name: str, *command: str, env: dict | None = None) -> Iterator[Server]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, *[part.format(port=port) for part in command]],
        cwd=ROOT, env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        _wait_for(port)
        yield Server(name, process, port)
    finally:
        for child in psutil.Process(process.pid).children(recursive=True):
            child.terminate()
        process.terminate()
        process.wait(10)


def _wait_for(port: int) -> None:
    for _ in range(200):
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.1):
            return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


def upstream(latency_ms: float = 0):
    return server("upstream", "-m", "bench.upstream", "--port", "{port}", "--latency-ms", str(latency_ms))


def proxy(upstream_base: str, *, workers: int = 1, event_loop: str = "asyncio"):
    return server(
        f"proxy ({workers}w, {event_loop})",
        "-m", "proxy.cli", "serve", "--upstream", upstream_base, "--port", "{port}",
        "--workers", str(workers), "--event-loop", event_loop, "--log-level", "error",
        # The stand-in upstream has no rate limits; the governor would measure Klaviyo's tiers.
        env={"KLP_RATE_GOVERNOR": "false"},
    )  # fmt: skip


def load(url: str, duration: float, *, method: str = "GET", body: str = "", rate: float | None = None, connections: int = 32, python: bool = False) -> dict:
    command = [sys.executable, "-m", "bench.load", url, "--method", method, "--duration", str(duration), "--connections", str(connections)]
    if body:
        command += ["--body", body, "--content-type", FORM]
    if rate:
        command += ["--rate", str(rate)]
    if python:
        command.append("--python")
    return json.loads(subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True).stdout)


def measured(scenario: str, contender: str, target: Server, url: str, duration: float, **kwargs) -> Row:
    processes = [target.stats(), *target.stats().children(recursive=True)]
    cpu_before = sum(sum(p.cpu_times()[:2]) for p in processes)
    result = load(url, duration, **kwargs)
    cpu = sum(sum(p.cpu_times()[:2]) for p in processes) - cpu_before
    rss = sum(p.memory_info().rss for p in processes) / 2**20
    return Row(scenario, contender, result["rps"], result["p50_ms"], result["p99_ms"],
               round(cpu * 1000 / max(result["requests"], 1), 3), round(rss, 1), extra={"errors": result["errors"]})  # fmt: skip


def overhead(duration: float, smoke: bool) -> list[Row]:
    metrics = f"/api/v1/metrics?api_key={DEMO_PRIVATE_KEY}"
    rows: list[Row] = []
    with upstream() as up, server("forwarder", "-m", "bench.forwarder", "--port", "{port}", "--upstream", up.base) as fw:
        rows.append(measured("overhead", "upstream direct", up, up.base + "/api/metrics", duration, python=smoke))
        rows.append(measured("overhead", "bare forwarder", fw, fw.base + "/api/metrics", duration, python=smoke))
        for loop in ("asyncio",) if smoke else ("asyncio", "uvloop"):
            with proxy(up.base, event_loop=loop) as px:
                get = measured("overhead", f"proxy GET /api/v1/metrics ({loop})", px, px.base + metrics, duration, python=smoke)
                track = measured("overhead", f"proxy POST /api/track ({loop})", px, px.base + "/api/track", duration, method="POST", body=TRACK_BODY, python=smoke)
                rows += [get, track]
                half = max(get.rps / 2, 10)
                direct = load(up.base + "/api/metrics", duration, rate=half)
                translated = load(px.base + metrics, duration, rate=half)
                rows.append(Row("overhead", f"added latency at {half:.0f} req/s ({loop})",
                                translated["rps"], round(translated["p50_ms"] - direct["p50_ms"], 3),
                                round(translated["p99_ms"] - direct["p99_ms"], 3)))  # fmt: skip
    forwarder = rows[1].rps
    for row in rows[2:]:
        if row.contender.startswith("proxy GET"):
            row.ratio = f"{row.rps / forwarder:.2f}× forwarder (target ≥ 0.70)"
        elif row.contender.startswith("added latency"):
            row.ratio = f"added p50 {row.p50_ms} ms (≤ 1), p99 {row.p99_ms} ms (≤ 5)"
    return rows


def scale(duration: float, smoke: bool) -> list[Row]:
    metrics = f"/api/v1/metrics?api_key={DEMO_PRIVATE_KEY}"
    rows = []
    with upstream() as up:
        for workers in (1, 2):
            with proxy(up.base, workers=workers) as px:
                time.sleep(0.5 * workers)  # every worker bound
                rows.append(measured("scale", f"proxy, {workers} worker(s)", px, px.base + metrics, duration, connections=64, python=smoke))
    rows[1].ratio = f"{rows[1].rps / rows[0].rps:.2f}× one worker (target ≥ 1.6)"
    return rows


SCENARIOS = {"overhead": overhead, "scale": scale}


def write_report(rows: list[Row], out: Path, smoke: bool) -> None:
    out.mkdir(parents=True, exist_ok=True)
    lines = [
        f"# Benchmarks ({'smoke run, no targets' if smoke else 'full run'})",
        "",
        f"Machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}. Load: {'asyncio client' if smoke else 'wrk / asyncio open loop'} in a separate process.",
        "",
        "| scenario | contender | req/s | p50 ms | p99 ms | CPU ms/req | RSS MB | vs baseline |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        lines.append(f"| {r.scenario} | {r.contender} | {r.rps:g} | {r.p50_ms:g} | {r.p99_ms:g} | {_cell(r.cpu_ms_per_request)} | {_cell(r.peak_rss_mb)} | {r.ratio} |")
    (out / "latest.md").write_text("\n".join(lines) + "\n")
    _chart(rows, out / "latest.png")


def _cell(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def _chart(rows: list[Row], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = [r for r in rows if r.cpu_ms_per_request is not None]
    figure, axis = plt.subplots(figsize=(10, 0.45 * len(shown) + 1.5))
    axis.barh([f"{r.scenario}: {r.contender}" for r in shown], [r.rps for r in shown], color="#4a7bd0")
    axis.invert_yaxis()
    axis.set_xlabel("requests / second (higher is better)")
    axis.set_title("klaviyo-legacy-proxy benchmarks")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--duration", type=float, default=8.0)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    parser.add_argument("--only", choices=sorted(SCENARIOS))
    args = parser.parse_args()
    duration = 0.5 if args.smoke else args.duration
    rows: list[Row] = []
    for name, scenario in SCENARIOS.items():
        if args.only in (None, name):
            rows += scenario(duration, args.smoke)
    write_report(rows, args.out, args.smoke)
    print((args.out / "latest.md").read_text())


if __name__ == "__main__":
    main()
