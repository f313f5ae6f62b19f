"""The sandbox over HTTP, for `make demo` and offline staging."""

from __future__ import annotations

from aiohttp import web

from proxy.newapi.messages import UpstreamRequest
from proxy.sandbox.core import Sandbox

SANDBOX_KEY = web.AppKey("sandbox", Sandbox)


def build_app(sandbox: Sandbox) -> web.Application:
    app = web.Application()
    app[SANDBOX_KEY] = sandbox
    app.router.add_get("/__sandbox/state", state)
    app.router.add_route("*", "/{tail:.*}", forward)
    return app


async def forward(request: web.Request) -> web.Response:
    upstream = UpstreamRequest(
        method=request.method,
        # raw_path keeps percent-encoding, so an id containing "/" stays one segment.
        path=request.raw_path.split("?", 1)[0],
        query=tuple(request.query.items()),
        headers=dict(request.headers),
        body=await request.read() or None,
    )
    response = await request.app[SANDBOX_KEY].handle(upstream)
    return web.Response(status=response.status, headers=response.headers, body=response.body)


async def state(request: web.Request) -> web.Response:
    """Counts per account, so a demo can show what its calls changed."""
    sandbox = request.app[SANDBOX_KEY]
    return web.json_response({
        "accounts": [
            {
                "public_key": account.public_key,
                "profiles": len(account.profiles),
                "metrics": len(account.metrics),
                "events": len(account.events),
            }
            for account in sandbox.accounts
        ]
    })
