"""Who may see the staging routes (`/__proxy/…`) and `/metrics`: they show usage per key
fingerprint, the upstream address and traffic, so they are not for the public port.

Without an admin token only loopback callers are served, and a request that came
through a proxy (it carries `Forwarded`, `X-Forwarded-For` or `X-Real-IP`) does not count
as loopback, whatever its socket says. With `admin_token` set every caller must send
`Authorization: Bearer <token>`, from anywhere.
"""

from __future__ import annotations

import hmac
import ipaddress

import orjson
from aiohttp import web
from aiohttp.typedefs import Handler

_PRIVATE_PREFIXES = ("/__proxy", "/metrics")
_FORWARDING = ("Forwarded", "X-Forwarded-For", "X-Real-IP")


def is_private(path: str) -> bool:
    return path.startswith(_PRIVATE_PREFIXES)


def is_loopback(request: web.Request) -> bool:
    if any(header in request.headers for header in _FORWARDING):
        return False
    if request.remote == "":  # a Unix socket: only local processes reach it
        return True
    try:
        return ipaddress.ip_address(request.remote or "").is_loopback
    except ValueError:
        return False


def has_token(request: web.Request, token: str) -> bool:
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


def admin_access(token: str | None):
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not is_private(request.path):
            return await handler(request)
        if token is not None:
            if has_token(request, token):
                return await handler(request)
            return _refused(401, "Send the admin token: Authorization: Bearer <KLP_ADMIN_TOKEN>.", {"WWW-Authenticate": "Bearer"})
        if is_loopback(request):
            return await handler(request)
        return _refused(403, "Served to loopback callers only; set KLP_ADMIN_TOKEN to allow others.")

    return middleware


def _refused(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    body = orjson.dumps({"status": status, "message": message})
    return web.Response(status=status, body=body, content_type="application/json", headers=headers)
