"""A minimal, fast stand-in for the new API: fixed JSON:API answers, optional latency."""

from __future__ import annotations

import argparse
import asyncio

import orjson
from aiohttp import web

METRICS = orjson.dumps(
    {
        "data": [
            {
                "type": "metric",
                "id": f"M{i:05d}",
                "attributes": {
                    "name": f"Metric {i}",
                    "created": "2024-01-01T00:00:00+00:00",
                    "updated": "2024-01-01T00:00:00+00:00",
                    "integration": {"id": "7FtS4J", "name": "API", "category": "API"},
                },
                "links": {"self": f"https://a.klaviyo.com/api/metrics/M{i:05d}"},
            }
            for i in range(9)
        ],
        "links": {"self": "https://a.klaviyo.com/api/metrics"},
    }
)
JSON_API = "application/vnd.api+json"


def build_app(latency_ms: float) -> web.Application:
    async def pause() -> None:
        if latency_ms:
            await asyncio.sleep(latency_ms / 1000)

    async def metrics(_request: web.Request) -> web.Response:
        await pause()
        return web.Response(body=METRICS, content_type=JSON_API)

    async def accepted(request: web.Request) -> web.Response:
        await request.read()
        await pause()
        return web.Response(status=202)

    app = web.Application()
    app.router.add_get("/api/metrics", metrics)
    app.router.add_post("/client/events", accepted)
    app.router.add_post("/api/events", accepted)
    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    args = parser.parse_args()
    web.run_app(build_app(args.latency_ms), host="127.0.0.1", port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
