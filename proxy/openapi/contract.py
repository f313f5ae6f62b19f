"""A transport that holds every upstream call against the official spec.

`ContractTransport` wraps the transport the proxy talks through, validates each request
against the OpenAPI description of the pinned revision (or the beta one for a `.pre`
revision) and each successful answer against the spec's response schemas, and keeps the
violations. The test suite wraps every proxy it starts in one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from proxy.newapi.messages import UpstreamRequest, UpstreamResponse
from proxy.newapi.transport import Transport
from proxy.openapi.spec import Spec
from proxy.openapi.validate import validate_request, validate_response


@dataclass
class ContractTransport:
    inner: Transport
    stable: Spec
    beta: Spec | None = None
    requests: list[UpstreamRequest] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)

    async def send(self, request: UpstreamRequest) -> UpstreamResponse:
        self.requests.append(request)
        spec = self._spec_for(request)
        where = f"{request.method} {request.path}"
        self.violations += [
            f"request {where}: {problem}"
            for problem in validate_request(spec, request.method, request.path, request.query, request.headers, request.body)
        ]
        response = await self.inner.send(request)
        if response.status < 400:  # error documents are checked by the sandbox's own tests
            self.violations += [
                f"response {where} {response.status}: {problem}"
                for problem in validate_response(spec, request.method, request.path, response.status, response.body)
            ]
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()

    def _spec_for(self, request: UpstreamRequest) -> Spec:
        revision = request.header("revision") or ""
        if revision.endswith(".pre") and self.beta is not None:
            return self.beta
        return self.stable
