"""Walk a paged collection to its end, one request at a time, as a bulk reader does:
the legacy way (`marker` from each batch goes into the next request) or the new API's
(`links.next`, moved onto the host being walked). Prints one JSON line: records,
requests, errors, seconds, p50_ms, p99_ms (per request).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import orjson

from bench.load import percentile


def next_url(start: str, answer: dict[str, Any], follow: str) -> str | None:
    if follow == "marker":
        marker = answer.get("marker")
        return None if marker is None else f"{start}{'&' if '?' in start else '?'}marker={marker}"
    link = (answer.get("links") or {}).get("next")
    return None if link is None else urlsplit(link)._replace(netloc=urlsplit(start).netloc, scheme="http").geturl()


async def walk(start: str, follow: str) -> dict[str, Any]:
    records, errors, latencies = 0, 0, []
    url: str | None = start
    started = time.perf_counter()
    async with aiohttp.ClientSession() as session:
        while url is not None:
            sent = time.perf_counter()
            async with session.get(url) as response:
                body = await response.read()
            latencies.append(time.perf_counter() - sent)
            if response.status != 200:
                errors += 1
                break
            answer = orjson.loads(body)
            records += len(answer["records" if follow == "marker" else "data"])
            url = next_url(start, answer, follow)
    latencies.sort()
    return {
        "records": records,
        "requests": len(latencies),
        "errors": errors,
        "seconds": round(time.perf_counter() - started, 3),
        "p50_ms": percentile(latencies, 0.5),
        "p99_ms": percentile(latencies, 0.99),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url", help="the first page or batch")
    parser.add_argument("--follow", choices=("marker", "links"), required=True)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(walk(args.url, args.follow))))


if __name__ == "__main__":
    main()
