"""The sandbox behind the transport seam, in-process: no sockets, no serialisation beyond
the bytes the real API would send."""

from __future__ import annotations

from proxy.newapi.messages import UpstreamRequest, UpstreamResponse
from proxy.sandbox.core import Sandbox


class SandboxTransport:
    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    async def send(self, request: UpstreamRequest) -> UpstreamResponse:
        return await self.sandbox.handle(request)

    async def aclose(self) -> None:
        """Nothing to release: the sandbox lives as long as its owner keeps it."""
