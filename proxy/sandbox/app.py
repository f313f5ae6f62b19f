"""The sandbox over HTTP, for `make demo` and offline staging.

`/__sandbox/faults` switches the faults of `proxy.sandbox.faults` on and off while it
runs, so staging users can rehearse 429 storms and outages: `GET` shows them, `POST` a
JSON object of changes (`{"throttles": 1, "retry_after": 5}`), `DELETE` clears them. They
apply to every request this app forwards and, under `serve --sandbox`, to the proxy's
own in-process calls too (both share one `Faults`).
"""

from __future__ import annotations

import orjson
from aiohttp import web

from proxy.newapi.messages import UpstreamRequest
from proxy.sandbox.core import Sandbox
from proxy.sandbox.faults import Faults, FaultyTransport
from proxy.sandbox.transport import SandboxTransport
from proxy.newapi.errors import UpstreamUnreachable

SANDBOX_KEY = web.AppKey("sandbox", Sandbox)
TRANSPORT_KEY = web.AppKey("transport", FaultyTransport)


def build_app(sandbox: Sandbox, faults: Faults | None = None) -> web.Application:
    app = web.Application()
    app[SANDBOX_KEY] = sandbox
    app[TRANSPORT_KEY] = FaultyTransport(SandboxTransport(sandbox), faults or Faults())
    app.router.add_get("/__sandbox/state", state)
    app.router.add_get("/__sandbox/faults", show_faults)
    app.router.add_post("/__sandbox/faults", change_faults)
    app.router.add_delete("/__sandbox/faults", clear_faults)
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
    try:
        response = await request.app[TRANSPORT_KEY].send(upstream)
    except UpstreamUnreachable:  # an injected reset: the connection drops without an answer
        if request.transport is not None:
            request.transport.close()
        return web.Response(status=502)
    return web.Response(status=response.status, headers=response.headers, body=response.body)


async def show_faults(request: web.Request) -> web.Response:
    return web.json_response(request.app[TRANSPORT_KEY].faults.as_dict())


async def change_faults(request: web.Request) -> web.Response:
    faults = request.app[TRANSPORT_KEY].faults
    try:
        changes = orjson.loads(await request.read())
        if not isinstance(changes, dict):
            raise TypeError
        faults.update(**{str(name): value for name, value in changes.items()})
    except (orjson.JSONDecodeError, TypeError, ValueError) as error:
        detail = str(error) if isinstance(error, ValueError) and "fault" in str(error) else "send a JSON object of fault: value"
        return web.json_response({"error": detail, "faults": faults.as_dict()}, status=400)
    return web.json_response(faults.as_dict())


async def clear_faults(request: web.Request) -> web.Response:
    request.app[TRANSPORT_KEY].faults.clear()
    return web.json_response(request.app[TRANSPORT_KEY].faults.as_dict())


async def state(request: web.Request) -> web.Response:
    """Counts per account, so a demo can show what its calls changed."""
    sandbox = request.app[SANDBOX_KEY]
    sandbox.run_due_jobs()
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
