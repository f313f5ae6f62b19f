"""A transport that sends nothing: it records each call and answers with placeholders.

Answers follow the spec's success status for the operation (202 with no body, 204, or a
document). Placeholder ids name the call that produced them (`dryrun-2-profile`), so a
later call that uses one visibly depends on the earlier call.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import orjson

from proxy.newapi.messages import UpstreamRequest, UpstreamResponse
from proxy.openapi.spec import Operation, Spec

PLACEHOLDER = re.compile(r"dryrun-(\d+)-[a-z-]+")
_JSON_API = {"Content-Type": "application/vnd.api+json"}


@dataclass
class DryRunTransport:
    spec: Spec
    beta: Spec | None = None  # for calls made with the `.pre` revision
    requests: list[UpstreamRequest] = field(default_factory=list)

    async def send(self, request: UpstreamRequest) -> UpstreamResponse:
        self.requests.append(request)
        spec = self.beta if self.beta and (request.header("revision") or "").endswith(".pre") else self.spec
        operation = spec.operation(request.method, request.path)
        if operation is None:
            return UpstreamResponse(404, _JSON_API, b'{"errors": []}')
        status = min(key for key in operation.responses if key.startswith("2") and key.isdigit())
        if operation.responses[status] is None:
            return UpstreamResponse(int(status), {})
        resource = _resource(resource_type_of(operation), len(self.requests))
        data = [resource] if _answers_a_list(spec, operation, status) else resource
        return UpstreamResponse(int(status), _JSON_API, orjson.dumps({"data": data, "links": {"self": request.path}}))

    async def aclose(self) -> None:
        pass


def _answers_a_list(spec: Spec, operation: Operation, status: str) -> bool:
    document = spec.resolve(operation.responses[status])
    data = spec.resolve((document.get("properties") or {}).get("data") or {})
    return data.get("type") == "array"


def resource_type_of(operation: Operation) -> str:
    """`/api/lists/{id}/profiles` → "profile"; `/api/campaign-send-jobs` → "campaign-send-job"."""
    name = [segment for segment in operation.path.split("/") if segment and not segment.startswith("{")][-1]
    return name[:-1] if name.endswith("s") else name


def _resource(resource_type: str, number: int) -> dict:
    resource: dict = {"type": resource_type, "id": f"dryrun-{number}-{resource_type}", "attributes": {}, "links": {"self": ""}}
    if resource_type == "event":
        resource["relationships"] = {
            name: {"data": {"type": name, "id": f"dryrun-{number}-{name}"}} for name in ("metric", "profile")
        }
    return resource
