"""1. Overhead: the upstream called directly, a bare aiohttp forwarder (on asyncio's loop, the
yardstick, and on uvloop), and the proxy translating a GET and a form-encoded track with its
default settings (uvloop) and on asyncio's loop (the A/B); then
the proxy's added latency at half its peak rate, open loop.

The headline is CPU per request as a ratio to the bare forwarder's in the same run: on a
shared machine throughput swings with whatever else runs, the CPU the server process
spent per request much less. Both forwarders and the proxy's default rows are measured in
turns (`measured_in_turns`), so a stretch in which the machine runs slow or fast counts
against all of them alike. The proxy runs with its default settings (`bench.harness.proxy`);
its warm `GET /api/v1/metrics` is served from the kept page walk (no upstream call, the
state store read instead), the track makes its one upstream POST."""

from __future__ import annotations

import statistics

from bench.harness import (
    METRICS,
    TRACK_BODY,
    OtherLoad,
    Contender,
    Row,
    Server,
    Target,
    load,
    measured,
    measured_in_turns,
    proxy,
    server,
    upstream,
)

SCENARIO = "overhead"
SATURATED = 0.95  # an open loop that achieves less of its rate than this measured a queue
CPU_RATIO = 1.5  # the proxy's CPU per translated request, at most this many times the forwarder's
TURNS = 3  # rounds of turns the yardstick and the proxy's default rows are measured in


def run(duration: float, smoke: bool) -> list[Row]:
    with upstream() as up:
        direct = measured(SCENARIO, "upstream direct", up, up.base + "/api/metrics", duration, python=smoke)
        with _forwarder(up, "asyncio") as fw, _forwarder(up, "uvloop") as uvloop_fw, proxy(up.base) as px:
            _warm(px, smoke)
            # The proxy's default loop is uvloop: the forwarder on it too, for the same-loop
            # ratio, taking its turns with the others (the two forwarders' readings in one
            # block each drifted apart by up to 1.7× on a busy host).
            forwarder, uvloop_forwarder, get, track = measured_in_turns(SCENARIO, [
                Contender("bare forwarder", fw, fw.base + "/api/metrics", {"python": smoke}),
                Contender("bare forwarder (uvloop)", uvloop_fw, uvloop_fw.base + "/api/metrics", {"python": smoke}),
                *_translations(px, _LABELS["auto"], smoke),
            ], duration, 1 if smoke else TURNS)  # fmt: skip
            direct.cpu_ratio, forwarder.cpu_ratio = _ratio(direct, forwarder), 1.0
            uvloop_forwarder.cpu_ratio = _ratio(uvloop_forwarder, forwarder)
            added = _added_latency(px, up, _LABELS["auto"], max(get.rps / 2, 10), duration)
            rows = [direct, forwarder, uvloop_forwarder, *_compared(get, track, forwarder), added]
        if not smoke:
            with proxy(up.base, event_loop="asyncio") as px:
                _warm(px, smoke)
                get, track = (measured(SCENARIO, c.name, c.target, c.url, duration, **c.options) for c in _translations(px, _LABELS["asyncio"], smoke))
                added = _added_latency(px, up, _LABELS["asyncio"], max(get.rps / 2, 10), duration)
                rows += [*_compared(get, track, forwarder), added]
    if not smoke:
        default_get, asyncio_get = (row for row in rows if row.contender.startswith("proxy GET"))
        default_track, asyncio_track = (row for row in rows if row.contender.startswith("proxy POST"))
        for row in (default_get, default_track):
            row.notes.append(f"vs the forwarder on uvloop too: {_ratio(row, uvloop_forwarder)}×")
        default_get.notes.append(
            f"uvloop A/B: {default_get.rps / asyncio_get.rps:.2f}× asyncio's throughput, "
            f"{default_get.cpu_ms_per_request / asyncio_get.cpu_ms_per_request:.2f}× its CPU per request"
        )
    return rows


# The default (`event_loop=auto`) is what is measured first; asyncio's own loop is the A/B.
_LABELS = {"auto": "default: uvloop", "asyncio": "asyncio"}


def _forwarder(up: Server, loop: str):
    return server("forwarder", "-m", "bench.forwarder", "--port", "{port}", "--upstream", up.base, "--event-loop", loop)


def _warm(px: Server, smoke: bool) -> None:
    """Measure a running proxy: the first metrics read walks the metrics (the warm read is
    measured), and a key's first busy second sizes its rate-budget lease (its rate is not
    known before)."""
    load(px.base + METRICS, 0.5, python=smoke)
    load(px.base + "/api/track", 1.0, method="POST", body=TRACK_BODY, python=smoke)


def _translations(px: Server, loop: str, smoke: bool) -> list[Contender]:
    return [
        Contender(f"proxy GET /api/v1/metrics ({loop})", px, px.base + METRICS, {"python": smoke}),
        # Each turn of the track starts with the key's busy second that sizes its lease,
        # as `_warm` does before the first: the steady state is what is measured.
        Contender(
            f"proxy POST /api/track ({loop})", px, px.base + "/api/track",
            {"method": "POST", "body": TRACK_BODY, "python": smoke}, warm=0 if smoke else 1.0,
        ),
    ]


def _compared(get: Row, track: Row, forwarder: Row) -> list[Row]:
    for row in (get, track):
        row.cpu_ratio = _ratio(row, forwarder)
        row.targets.append(Target("CPU per request vs bare forwarder", row.cpu_ratio, CPU_RATIO, unit="×"))
        row.notes.append(f"throughput {row.rps / forwarder.rps:.2f}× the bare forwarder's")
    return [get, track]


def _ratio(row: Row, forwarder: Row) -> float:
    return round(row.cpu_ms_per_request / forwarder.cpu_ms_per_request, 2)


def _added_latency(px: Server, up: Server, loop: str, rate: float, duration: float) -> Row:
    """Open loop at `rate` against the upstream alone, then through the proxy, in `TURNS`
    pairs of turns: each pair's difference of the percentiles is what the proxy adds, and
    the median pair is reported. A p99 is a few dozen requests of one window, so a burst
    of other work on the machine in one window moved a single difference by tens of
    milliseconds either way; in pairs a burst moves one pair, not the reading."""
    pairs = []
    with OtherLoad() as others:
        for _ in range(TURNS):
            direct = load(up.base + "/api/metrics", duration / TURNS, rate=rate)
            translated = load(px.base + METRICS, duration / TURNS, rate=rate)
            pairs.append((translated["p50_ms"] - direct["p50_ms"], translated["p99_ms"] - direct["p99_ms"], translated))
    added_p50 = round(statistics.median(pair[0] for pair in pairs), 3)
    added_p99 = round(statistics.median(pair[1] for pair in pairs), 3)
    rps = round(statistics.mean(pair[2]["rps"] for pair in pairs), 2)
    errors = sum(pair[2]["errors"] for pair in pairs)
    contender = f"added latency at {rate:.0f} req/s ({loop})"
    row = Row(SCENARIO, contender, rps, added_p50, added_p99, errors=errors, others_cpu=others.share)
    row.notes.append(
        f"p50/p99 here: the proxy's minus the upstream's at the same rate, the median of {TURNS} pairs of turns "
        f"(p99s: {', '.join(f'{pair[1]:+.2f}' for pair in pairs)} ms)"
    )
    if rps < SATURATED * rate:
        row.notes.append(f"not a valid reading: the machine could not keep up the offered {rate:.0f} req/s")
    row.targets += [Target("added p50", added_p50, 1, unit=" ms"), Target("added p99", added_p99, 5, unit=" ms")]
    return row
