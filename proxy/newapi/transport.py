"""The transport seam: the one interface through which every upstream call travels."""

from __future__ import annotations

from typing import Protocol

from proxy.newapi.messages import UpstreamRequest, UpstreamResponse


class Transport(Protocol):
    async def send(self, request: UpstreamRequest) -> UpstreamResponse:
        """Deliver one request and return the complete response.

        Raises `proxy.newapi.errors.TransportError` subclasses for network failures.
        """

    async def aclose(self) -> None: ...
