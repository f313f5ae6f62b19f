"""What every scenario is made of: server processes on free ports, load from a separate
process, and the measurements (CPU per request, peak RSS) taken of the server under load."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self
from urllib.parse import quote_plus

import psutil

from proxy.sandbox.seed import DEMO_PRIVATE_KEY

ROOT = Path(__file__).resolve().parent.parent
FORM = "application/x-www-form-urlencoded"
METRICS = f"/api/v1/metrics?api_key={DEMO_PRIVATE_KEY}"  # the one-call legacy read
# Each request's `$event_id` is numbered by the load generator: identical payloads within one
# second are one event (legacy de-duplication), and the bench measures distinct events. The
# form is URL-encoded, as the legacy SDKs send it (`urlencode`, spaces as `+`).
TRACK_BODY = "data={}{{n}}{}".format(
    quote_plus('{"token": "DemoPk", "event": "Bench", "customer_properties": {"$email": "bench@example.com"}, "properties": {"$event_id": "bench-'),
    quote_plus('"}}'),
)
RSS_EVERY = 0.02  # seconds between RSS samples; growth worth reporting lasts far longer
# CPU of processes this run started but could not reap (a multi-worker proxy's workers
# outlive their parent), counted when they are stopped so `OtherLoad` does not blame others.
_unreaped_cpu_seconds = 0.0


@dataclass
class Server:
    name: str
    process: subprocess.Popen
    port: int

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def processes(self) -> list[psutil.Process]:
        """The server and its workers (a multi-worker proxy forks them)."""
        parent = psutil.Process(self.process.pid)
        return [parent, *parent.children(recursive=True)]


@dataclass(frozen=True)
class Target:
    """A number the issue sets: met when `measured` is at most (or at least) `limit`."""

    name: str
    measured: float
    limit: float
    at_least: bool = False
    unit: str = ""

    @property
    def met(self) -> bool:
        return self.measured >= self.limit if self.at_least else self.measured <= self.limit

    def __str__(self) -> str:
        sign = "≥" if self.at_least else "≤"
        return f"{self.name}: {self.measured:g}{self.unit} (target {sign} {self.limit:g}{self.unit})"


@dataclass
class Row:
    scenario: str
    contender: str
    rps: float
    p50_ms: float
    p99_ms: float
    cpu_ms_per_request: float | None = None
    peak_rss_mb: float | None = None
    errors: int | None = None
    others_cpu: float | None = None  # share of the machine's CPU other processes took meanwhile
    cpu_ratio: float | None = None  # CPU per request over the bare forwarder's, in the same run
    notes: list[str] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def server(name: str, *command: str, env: dict | None = None) -> Iterator[Server]:
    port = free_port()
    # What a server says on stderr is kept (not shown) so that one that fails to start can say why.
    errors = tempfile.TemporaryFile()
    process = subprocess.Popen(
        [sys.executable, *[part.format(port=port) for part in command]],
        cwd=ROOT, env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL, stderr=errors,
    )  # fmt: skip
    try:
        _wait_for(port, process, errors)
        yield Server(name, process, port)
    finally:
        global _unreaped_cpu_seconds
        if process.poll() is None:
            for child in psutil.Process(process.pid).children(recursive=True):
                _unreaped_cpu_seconds += sum(child.cpu_times()[:4])
                child.terminate()
            process.terminate()
        process.wait(10)
        errors.close()


def _wait_for(port: int, process: subprocess.Popen, errors) -> None:
    for _ in range(400):
        if process.poll() is not None:
            errors.seek(0)
            said = errors.read().decode(errors="replace").strip().splitlines()[-3:]
            raise RuntimeError(f"{process.args} exited with {process.returncode} before listening: {' / '.join(said)}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.1):
            return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


def upstream(latency_ms: float = 0, members: int = 0):
    """The stand-in new API (bench.upstream); `members`: the size of its generated list."""
    return server(
        "upstream", "-m", "bench.upstream", "--port", "{port}", "--latency-ms", str(latency_ms), "--members", str(members)
    )


def proxy(upstream_base: str, *, workers: int = 1, event_loop: str = "auto", klaviyo_tiers: bool = False, env: dict | None = None):
    """The proxy in front of `upstream_base` with its default settings (JSON logs at info,
    metrics, the rate governor, deprecation headers, the usage inventory, state in a SQLite
    file: its own, in a fresh directory). One thing differs unless `klaviyo_tiers`: a
    stand-in upstream has no limits, so the governor counts against every operation's tier
    raised `UNLIMITED` times; its bookkeeping is all there and measured, it just never
    throttles the load."""
    workspace = tempfile.TemporaryDirectory(prefix="klp-bench-")
    defaults = {"KLP_SPOOL_PATH": str(Path(workspace.name) / "spool.sqlite3")}
    if not klaviyo_tiers:
        defaults["KLP_MAPPINGS_DIR"] = str(raised_tiers(Path(workspace.name) / "mappings"))
    return _cleaned_up(workspace, server(
        f"proxy ({workers}w, {event_loop})",
        "-m", "proxy.cli", "serve", "--upstream", upstream_base, "--port", "{port}",
        "--workers", str(workers), "--event-loop", event_loop,
        env={**defaults, **(env or {})},
    ))  # fmt: skip


UNLIMITED = 10_000  # times Klaviyo's tiers: far beyond what one machine can send


def raised_tiers(mappings: Path) -> Path:
    """A copy of the mapping table whose rate tiers are `UNLIMITED` times Klaviyo's."""
    shutil.copytree(ROOT / "mappings", mappings)
    for tiers in (mappings / "ratelimits").glob("*.yaml"):
        text = tiers.read_text()
        tiers.write_text(re.sub(r"(\d+)/([smd])\b", lambda m: f"{int(m.group(1)) * UNLIMITED}/{m.group(2)}", text))
    return mappings


@contextlib.contextmanager
def _cleaned_up(workspace: tempfile.TemporaryDirectory, running):
    with workspace, running as started:
        yield started


def load(
    url: str,
    duration: float,
    *,
    method: str = "GET",
    body: str = "",
    rate: float | None = None,
    connections: int = 32,
    python: bool = False,
    expect_body: str | None = None,
) -> dict:
    """bench.load in its own process: requests, errors, matched, rps, p50_ms, p99_ms."""
    command = ["-m", "bench.load", url, "--method", method, "--duration", str(duration), "--connections", str(connections)]
    if body:
        command += ["--body", body, "--content-type", FORM]
    if expect_body is not None:
        command += ["--expect-body", expect_body]
    if rate:
        command += ["--rate", str(rate)]
    if python:
        command.append("--python")
    return run_json(*command)


def run_json(*command: str) -> dict:
    """A bench tool's one JSON line of results."""
    finished = subprocess.run([sys.executable, *command], cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(finished.stdout)


class Usage:
    """CPU seconds and peak RSS of a server while a block runs (RSS is sampled in a
    thread), and how much of the machine other processes took meanwhile."""

    def __init__(self, target: Server) -> None:
        self._processes = target.processes()
        self._stop = threading.Event()
        self._sampler = threading.Thread(target=self._sample, daemon=True)
        self._others = OtherLoad()
        self.start_rss_mb = self._rss_mb()
        self.peak_rss_mb = self.start_rss_mb
        self.cpu_seconds = 0.0

    def __enter__(self) -> Self:
        self._others.__enter__()
        self._cpu_before = self._cpu()
        self._sampler.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._sampler.join()
        self.cpu_seconds = self._cpu() - self._cpu_before
        self.peak_rss_mb = max(self.peak_rss_mb, self._rss_mb())
        self._others.__exit__(*exc)

    @property
    def others_cpu(self) -> float:
        return self._others.share

    @property
    def rss_growth_mb(self) -> float:
        return self.peak_rss_mb - self.start_rss_mb

    def cpu_ms_per(self, requests: int) -> float:
        return round(self.cpu_seconds * 1000 / max(requests, 1), 3)

    def _sample(self) -> None:
        while not self._stop.wait(RSS_EVERY):
            self.peak_rss_mb = max(self.peak_rss_mb, self._rss_mb())

    def _cpu(self) -> float:
        return sum(sum(process.cpu_times()[:2]) for process in self._processes)

    def _rss_mb(self) -> float:
        return sum(process.memory_info().rss for process in self._processes) / 2**20


def measured(scenario: str, contender: str, target: Server, url: str, duration: float, **kwargs) -> Row:
    """`load` against `url`, with the CPU and peak RSS of `target` while it runs."""
    with Usage(target) as usage:
        result = load(url, duration, **kwargs)
    return Row(
        scenario, contender, result["rps"], result["p50_ms"], result["p99_ms"],
        usage.cpu_ms_per(result["requests"]), round(usage.peak_rss_mb, 1), result["errors"], usage.others_cpu,
    )  # fmt: skip


@dataclass
class Contender:
    """A server and the load to measure it under (`load`'s options)."""

    name: str
    target: Server
    url: str
    options: dict = field(default_factory=dict)
    warm: float = 0.0  # seconds of the same load before each turn, not measured


def measured_in_turns(scenario: str, contenders: list[Contender], duration: float, rounds: int) -> list[Row]:
    """Each contender loaded for `duration / rounds` seconds in turn, `rounds` times over.
    A shared or virtual machine's speed drifts within a run by more than the differences
    worth measuring; in turns the drift weighs on every contender alike, where one block
    each hands it to whichever ran in the slow stretch. A row pools its turns: CPU seconds
    and requests summed (its CPU per request), rate averaged, p50 and p99 the median of its
    turns', peak RSS the highest."""
    turns: dict[str, list[tuple[Usage, dict]]] = {contender.name: [] for contender in contenders}
    for _ in range(rounds):
        for contender in contenders:
            if contender.warm:
                load(contender.url, contender.warm, **contender.options)
            with Usage(contender.target) as usage:
                result = load(contender.url, duration / rounds, **contender.options)
            turns[contender.name].append((usage, result))
    rows = []
    for contender in contenders:
        usages, results = zip(*turns[contender.name])
        requests = sum(result["requests"] for result in results)
        cpu_ms = round(sum(usage.cpu_seconds for usage in usages) * 1000 / max(requests, 1), 3)
        rows.append(Row(
            scenario, contender.name, round(statistics.mean(result["rps"] for result in results), 2),
            statistics.median(result["p50_ms"] for result in results), statistics.median(result["p99_ms"] for result in results),
            cpu_ms, round(max(usage.peak_rss_mb for usage in usages), 1), sum(result["errors"] for result in results),
            statistics.mean(usage.others_cpu for usage in usages),
        ))  # fmt: skip
    return rows


class OtherLoad:
    """The share of the machine's CPU that processes outside this run (other people's
    tests, the hypervisor's steal) took while a block ran: on a shared machine it skews
    every number, so the report shows it."""

    share = 0.0

    def __enter__(self) -> Self:
        self._start = (_machine_busy(), _own_cpu(), time.monotonic())
        return self

    def __exit__(self, *_exc: object) -> None:
        busy, own, wall = (now - then for now, then in zip((_machine_busy(), _own_cpu(), time.monotonic()), self._start))
        self.share = max(0.0, (busy - own) / (wall * (os.cpu_count() or 1)))


def _machine_busy() -> float:
    times = psutil.cpu_times()
    # guest time is already inside user time
    idle = times.idle + getattr(times, "iowait", 0) + getattr(times, "guest", 0) + getattr(times, "guest_nice", 0)
    return sum(times) - idle


def _own_cpu() -> float:
    """CPU seconds of this run: this process, the children it reaped, the ones still
    running (with whatever they reaped) and the ones it stopped but could not reap."""
    times = os.times()
    reaped = times.user + times.system + times.children_user + times.children_system
    running = 0.0
    for child in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.NoSuchProcess):
            running += sum(child.cpu_times()[:4])
    return reaped + running + _unreaped_cpu_seconds
