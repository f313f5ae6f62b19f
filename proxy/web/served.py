"""What one request became, shared along the pipeline: filled by the route that served
it, read by the middlewares that log, count and inventory it."""

from __future__ import annotations

from dataclasses import dataclass, field

from aiohttp import web

from proxy.mapping.table import family_of
from proxy.upstream.client import CallRecord


SERVICE_PREFIXES = ("/__proxy/", "/metrics", "/healthz", "/readyz")  # not part of the legacy surface


def is_service_path(path: str) -> bool:
    return path == "/__proxy" or path.startswith(SERVICE_PREFIXES)


@dataclass(slots=True)
class Served:
    family: str  # the legacy error dialect: v1, v2, public, ajax
    service: bool  # a service path (staging, metrics, probes): logged, never counted as legacy
    route: str | None = None  # the mapped legacy route, or "passthrough …"
    key: str | None = None  # the caller's key or token; only ever fingerprinted
    calls: list[CallRecord] = field(default_factory=list)  # upstream calls made for it
    aborted: bool = False  # the client went away before it was answered


_KEY = web.RequestKey("served", Served)


def start(request: web.Request) -> Served:
    served = Served(family_of(request.rel_url.raw_path), is_service_path(request.path))
    request[_KEY] = served
    return served


def served_of(request: web.Request) -> Served:
    """The request's record; requests that skipped `observe` (none in the app) get a fresh one."""
    try:
        return request[_KEY]  # not `request.get`: the Mapping mixin's `get` is a Python call more
    except KeyError:
        return start(request)
