"""What the application holds for its routes and middlewares, by typed key."""

from __future__ import annotations

from aiohttp import web

from proxy.config import Settings
from proxy.engine.dispatch import Engine
from proxy.spool.service import SpoolService
from proxy.upstream.client import UpstreamClient
from proxy.upstream.stack import Stack

SETTINGS = web.AppKey("settings", Settings)
ENGINE = web.AppKey("engine", Engine)
UPSTREAM = web.AppKey("upstream", UpstreamClient)
STACK = web.AppKey("stack", Stack)
SPOOL = web.AppKey("spool", SpoolService)
