"""Where the proxy's CPU goes: `python -m bench.profile` (or `make profile`).

The proxy runs with its default settings (`bench.harness.proxy`) in front of the stand-in
upstream; closed-loop load drives one legacy request at a time while py-spy samples the
server process, and the samples are written to bench/results/profile-<label>-<date>.md
as the top functions (inclusive and own time) and the share of each layer of the proxy.
The bare forwarder is measured in the same run, so the CPU per request has its yardstick.
"""

from __future__ import annotations

import argparse
import datetime
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.request
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from bench.harness import METRICS, ROOT, TRACK_BODY, Server, Usage, load, proxy, server, upstream

SAMPLE_RATE = 500  # py-spy samples a second
TOP = 25

# Each sample is put in the first layer one of its frames belongs to, looking from the
# innermost frame outwards: "what was running", grouped by who asked for it.
LAYERS: list[tuple[str, re.Pattern[str]]] = [
    ("log line (structlog, proxy/logs.py)", re.compile(r"structlog/|proxy/logs\.py|logging/__init__")),
    ("Prometheus observations", re.compile(r"prometheus_client/|proxy/metrics\.py")),
    ("state store (SQLite queries, on the loop)", re.compile(r"proxy/state/|sqlite3|concurrent/futures/thread")),
    ("rate governor bookkeeping", re.compile(r"proxy/upstream/(governor|budget|accounts|tiers)\.py")),
    ("upstream HTTP client (http, connection, pool, httptools)", re.compile(r"proxy/upstream/(http|connection|pool)\.py|httptools/|aiohappyeyeballs/")),
    ("upstream transport layers (retry, limit, observed, client)", re.compile(r"proxy/upstream/(retry|limit|observed|client)\.py")),
    ("usage inventory", re.compile(r"proxy/staging/usage")),
    ("deprecation headers", re.compile(r"proxy/staging/deprecation")),
    ("legacy request parsing and body", re.compile(r"proxy/legacy/request|proxy/web/body|proxy/legacy/exact_json|multidict")),
    ("engine, handlers and reshaping", re.compile(r"proxy/(engine|handlers|shapes|legacy|mapping)/")),
    ("proxy middlewares (observe, errors, access)", re.compile(r"proxy/web/|proxy/staging/usage_recording")),
    ("aiohttp server (HTTP parsing, response writing)", re.compile(r"aiohttp/web|aiohttp/http|aiohttp/base_protocol|aiohttp/streams")),
    ("event loop and sockets", re.compile(r"asyncio/|uvloop|selectors")),
]


@dataclass
class Profile:
    """Collapsed stacks (py-spy's raw format): one line per distinct stack, `frames count`."""

    stacks: Counter[tuple[str, ...]]

    @classmethod
    def read(cls, path: Path) -> Profile:
        stacks: Counter[tuple[str, ...]] = Counter()
        for line in path.read_text().splitlines():
            frames, _, count = line.rpartition(" ")
            if frames and count.isdigit():
                stacks[tuple(frames.split(";"))] += int(count)
        return cls(stacks)

    @property
    def samples(self) -> int:
        return sum(self.stacks.values())

    def own(self) -> Counter[str]:
        return Counter({frame: n for frame, n in self._sum(lambda stack: stack[-1:]).items()})

    def inclusive(self) -> Counter[str]:
        return self._sum(lambda stack: set(stack))

    def layers(self) -> Counter[str]:
        shares: Counter[str] = Counter()
        for stack, n in self.stacks.items():
            shares[_layer(stack)] += n
        return shares

    def _sum(self, frames_of) -> Counter[str]:
        totals: Counter[str] = Counter()
        for stack, n in self.stacks.items():
            for frame in frames_of(stack):
                totals[_short(frame)] += n
        return totals


def _layer(stack: tuple[str, ...]) -> str:
    for frame in reversed(stack):
        for name, pattern in LAYERS:
            if pattern.search(frame):
                return name
    return "other"


def _short(frame: str) -> str:
    """`handle (proxy/engine/dispatch.py:97)` with the path cut at the package root."""
    return re.sub(r"\(.*?((proxy|aiohttp|structlog|asyncio|prometheus_client|multidict|yarl|sqlite3|concurrent|logging|json|bench)/)", r"(\1", frame)


@dataclass
class Measured:
    name: str
    requests: int
    rps: float
    cpu_ms: float
    upstream_calls: float | None
    profile: Profile | None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=float, default=8.0, help="seconds of load (and of sampling) per request kind")
    parser.add_argument("--label", default="now", help="the file name's label: before, after, …")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args()
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(py_spy).exists():
        raise SystemExit("py-spy is not installed: pip install -e '.[bench]'")
    with upstream() as up:
        with server("forwarder", "-m", "bench.forwarder", "--port", "{port}", "--upstream", up.base) as fw:
            forwarder = _measure("bare forwarder, GET /api/metrics", fw, fw.base + "/api/metrics", args.duration, None)
        with proxy(up.base) as px:
            load(px.base + METRICS, 0.5)  # the first read walks the metrics; measure the warm snapshot
            get = _measure("proxy, GET /api/v1/metrics", px, px.base + METRICS, args.duration, py_spy)
            load(px.base + "/api/track", 1.0, method="POST", body=TRACK_BODY)  # the key's lease is sized in its first busy second
            track = _measure("proxy, POST /api/track (form, one event, sync)", px, px.base + "/api/track", args.duration, py_spy, track=True)
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"profile-{args.label}-{datetime.date.today()}.md"
    path.write_text(_report(args.label, forwarder, [get, track]))
    print(path.read_text())


def _measure(name: str, target: Server, url: str, duration: float, py_spy: str | None, track: bool = False) -> Measured:
    kwargs = {"method": "POST", "body": TRACK_BODY} if track else {}
    calls_before = _upstream_calls(target)
    with tempfile.NamedTemporaryFile(suffix=".txt") as raw:
        sampler = None
        if py_spy:
            sampler = subprocess.Popen(
                [py_spy, "record", "--pid", str(target.process.pid), "--rate", str(SAMPLE_RATE), "--format", "raw",
                 "--nonblocking", "--function", "--duration", str(max(1, round(duration))), "--output", raw.name],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
        with Usage(target) as usage:
            result = load(url, duration, **kwargs)
        if sampler:
            sampler.wait(60)
        profile = Profile.read(Path(raw.name)) if py_spy else None
    calls_after = _upstream_calls(target)
    per_request = None
    if calls_before is not None and calls_after is not None:
        per_request = round((calls_after - calls_before) / max(result["requests"], 1), 3)
    return Measured(name, result["requests"], result["rps"], usage.cpu_ms_per(result["requests"]), per_request, profile)


def _upstream_calls(target: Server) -> float | None:
    """Upstream calls the proxy made so far, from its own /metrics (None for the forwarder)."""
    try:
        with urllib.request.urlopen(target.base + "/metrics", timeout=5) as answer:
            text = answer.read().decode()
    except OSError:
        return None
    return sum(float(value) for value in re.findall(r"^klp_upstream_calls_total\{.*\} (\S+)$", text, re.MULTILINE))


def _report(label: str, forwarder: Measured, rows: list[Measured]) -> str:
    lines = [
        f"# Profile ({label}), {datetime.date.today()}",
        "",
        "Made by `make profile` (`python -m bench.profile`): the proxy with its default settings (JSON logs at info,",
        "metrics, rate governor, deprecation headers, usage inventory, SQLite state) in front of the stand-in",
        f"upstream, closed-loop load, py-spy sampling the server process at {SAMPLE_RATE}/s. CPU ms/request is read",
        "from the server process (while py-spy samples, without pausing it); the bare forwarder ran in the same run.",
        "",
        "| contender | requests | req/s | CPU ms/req | vs bare forwarder | upstream calls/req |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for row in [forwarder, *rows]:
        calls = "1 (by design)" if row.upstream_calls is None else f"{row.upstream_calls:g}"
        lines.append(
            f"| {row.name} | {row.requests} | {row.rps:g} | {row.cpu_ms:g} | {row.cpu_ms / forwarder.cpu_ms:.2f}× | {calls} |"
        )
    for row in rows:
        profile = row.profile
        if profile is None or not profile.samples:
            continue
        total = profile.samples
        lines += ["", f"## {row.name}: {total} samples", "", "### By layer (each sample counted once, in its innermost layer)", ""]
        lines += ["| layer | share |", "|---|---:|"]
        lines += [f"| {name} | {n / total:.1%} |" for name, n in profile.layers().most_common()]
        lines += ["", f"### Top {TOP} inclusive (the function or anything it called)", "", "| function | share |", "|---|---:|"]
        lines += [f"| `{name}` | {n / total:.1%} |" for name, n in profile.inclusive().most_common(TOP)]
        lines += ["", f"### Top {TOP} own time", "", "| function | share |", "|---|---:|"]
        lines += [f"| `{name}` | {n / total:.1%} |" for name, n in profile.own().most_common(TOP)]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
