"""Deprecation headers on every translated answer (legacy errors pass by outside it,
passthrough has no catalog entry): the route's catalog entry says what replaces it."""

from __future__ import annotations

from typing import Mapping

from aiohttp import web
from aiohttp.typedefs import Handler

from proxy.staging.catalog import CatalogEntry
from proxy.web.served import served_of


def deprecation_headers(catalog: Mapping[str, CatalogEntry]):
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        response = await handler(request)
        entry = catalog.get(served_of(request).route or "")
        if entry is not None:
            response.headers.update(entry.deprecation)
        return response

    return middleware
