"""Deprecation headers on every translated answer (legacy errors pass by outside it,
passthrough has no catalog entry): the route's catalog entry says what replaces it."""

from __future__ import annotations

from typing import Mapping

from aiohttp import web
from aiohttp.typedefs import Handler
from multidict import CIMultiDict

from proxy.staging.catalog import CatalogEntry
from proxy.web.served import served_of


def deprecation_headers(catalog: Mapping[str, CatalogEntry]):
    # Each route's headers made case-insensitive once: updating a response's headers from
    # a ready CIMultiDict skips folding every name's case again on every request.
    prepared = {route: CIMultiDict(entry.deprecation) for route, entry in catalog.items()}

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        response = await handler(request)
        headers = prepared.get(served_of(request).route)
        if headers is not None:
            response.headers.update(headers)
        return response

    return middleware
