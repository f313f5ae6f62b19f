"""The sandbox behind the transport seam, in-process: no sockets, no serialisation beyond
the bytes the real API would send."""

from __future__ import annotations

from proxy.sandbox.core import Sandbox
from proxy.upstream.messages import UpstreamRequest, UpstreamResponse


class SandboxTransport:
    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    async def send(self, request: UpstreamRequest) -> UpstreamResponse:
        return await self.sandbox.handle(request)

    async def aclose(self) -> None:
        """Nothing to release: the sandbox lives as long as its owner keeps it."""
