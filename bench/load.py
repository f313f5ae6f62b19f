"""Load from a separate process: wrk when installed, else an asyncio client.

`closed` keeps N connections busy (throughput); `open` fires at a fixed rate whatever the
answers do (latency at a given load, without coordinated omission hiding the queueing).
Prints one JSON line: requests, errors, matched (answers with the `--expect-body`), rps, p50_ms, p99_ms.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import re
import shutil
import subprocess
import tempfile
import time

import aiohttp


class Recorder:
    """Times each request; an error is a non-2xx/3xx answer or a failed connection.
    With `expect`, also counts the answers whose body is exactly that."""

    def __init__(self, url: str, method: str, body: bytes | None, headers: dict, expect: bytes | None = None):
        self.url, self.method, self.body, self.headers, self.expect = url, method, body, headers, expect
        self.numbers = itertools.count(1)
        self.latencies: list[float] = []
        self.errors = 0
        self.matched = 0

    async def one(self, session: aiohttp.ClientSession) -> None:
        started = time.perf_counter()
        try:
            async with session.request(self.method, self.url, data=numbered(self.body, next(self.numbers)), headers=self.headers) as response:
                answer = await response.read()
                self.errors += response.status >= 400
                self.matched += answer == self.expect
        except aiohttp.ClientError:
            self.errors += 1
        self.latencies.append(time.perf_counter() - started)


async def closed_loop(recorder: Recorder, duration: float, connections: int) -> dict:
    deadline = time.perf_counter() + duration

    async def worker(session: aiohttp.ClientSession) -> None:
        while time.perf_counter() < deadline:
            await recorder.one(session)

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=connections)) as session:
        started = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(connections)))
        return summary(recorder, time.perf_counter() - started)


async def open_loop(recorder: Recorder, duration: float, rate: float) -> dict:
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=256)) as session:
        tasks = []
        started = time.perf_counter()
        for n in range(int(duration * rate)):
            delay = started + n / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(recorder.one(session)))
        await asyncio.gather(*tasks)
        return summary(recorder, time.perf_counter() - started)


def summary(recorder: Recorder, elapsed: float) -> dict:
    ordered = sorted(recorder.latencies)
    return {
        "requests": len(ordered),
        "errors": recorder.errors,
        "matched": recorder.matched,
        "rps": round(len(ordered) / elapsed, 1),
        "p50_ms": percentile(ordered, 0.5),
        "p99_ms": percentile(ordered, 0.99),
    }


def percentile(ordered: list[float], q: float) -> float:
    """The q-quantile of sorted latencies in seconds, in milliseconds."""
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 3) if ordered else 0.0


# A body containing NUMBER gets a fresh request number in its place on every request, so
# load of identical-looking writes (track) is not de-duplicated into one event upstream.
NUMBER = b"{n}"


def numbered(body: bytes | None, number: int) -> bytes | None:
    return body.replace(NUMBER, str(number).encode()) if body and NUMBER in body else body


# wrk runs one thread here (-t1), so one counter numbers every request.
NUMBERED_LUA = """
local prefix, suffix, n = PREFIX, SUFFIX, 0
request = function() n = n + 1; return wrk.format(nil, nil, nil, prefix .. n .. suffix) end
"""


# Counts the answers whose body is EXPECTED in each thread and prints the total at the end.
# Only when asked: reading every body costs wrk throughput.
MATCH_LUA = """
matched = 0
response = function(status, headers, body) if body == EXPECTED then matched = matched + 1 end end
local threads = {}
setup = function(thread) table.insert(threads, thread) end
done = function(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do total = total + thread:get("matched") end
  io.write(string.format("Matched: %d\\n", total))
end
"""


def wrk(url: str, method: str, body: bytes | None, headers: dict, duration: float, connections: int, expect: bytes | None) -> dict:
    script = "wrk.method = %s\nwrk.body = %s\n" % (json.dumps(method), json.dumps((body or b"").decode()))
    script += "".join(f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}\n" for k, v in headers.items())
    if body and NUMBER in body:
        prefix, _, suffix = body.decode().partition(NUMBER.decode())
        script += NUMBERED_LUA.replace("PREFIX", json.dumps(prefix)).replace("SUFFIX", json.dumps(suffix))
    if expect is not None:
        script += MATCH_LUA.replace("EXPECTED", json.dumps(expect.decode()))
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as lua:
        lua.write(script)
        lua.flush()
        output = subprocess.run(
            ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(duration))}s", "--latency", "-s", lua.name, url],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", output))
    matched = re.search(r"Matched: (\d+)", output)
    return {
        "requests": requests,
        "errors": errors,
        "matched": int(matched.group(1)) if matched else 0,
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "p50_ms": _wrk_ms(re.search(r"50%\s+([\d.]+\w+)", output).group(1)),
        "p99_ms": _wrk_ms(re.search(r"99%\s+([\d.]+\w+)", output).group(1)),
    }


def _wrk_ms(text: str) -> float:
    value, unit = re.match(r"([\d.]+)(\w+)", text).groups()
    return round(float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit], 3)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--method", default="GET")
    parser.add_argument("--body", default="")
    parser.add_argument("--content-type", default="")
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rate", type=float, help="open loop at this many requests/s")
    parser.add_argument("--python", action="store_true", help="never use wrk")
    parser.add_argument("--expect-body", help="count the answers whose body is exactly this (`matched`)")
    args = parser.parse_args()
    body = args.body.encode() or None
    headers = {"Content-Type": args.content_type} if args.content_type else {}
    expect = args.expect_body.encode() if args.expect_body is not None else None
    recorder = Recorder(args.url, args.method, body, headers, expect)
    if args.rate:
        result = asyncio.run(open_loop(recorder, args.duration, args.rate))
    elif shutil.which("wrk") and not args.python:
        result = wrk(args.url, args.method, body, headers, args.duration, args.connections, expect)
    else:
        result = asyncio.run(closed_loop(recorder, args.duration, args.connections))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
