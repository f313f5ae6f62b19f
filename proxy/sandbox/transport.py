"""The sandbox behind the transport seam, in-process: no sockets, no serialisation beyond
the bytes the real API would send."""

from __future__ import annotations

from dataclasses import replace

import orjson

from proxy.newapi.messages import UpstreamRequest, UpstreamResponse
from proxy.sandbox.core import Sandbox

SIGN_UP = ("POST", "/client/subscriptions")


class SandboxTransport:
    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    async def send(self, request: UpstreamRequest) -> UpstreamResponse:
        return await self.sandbox.handle(_named_by_list(self.sandbox, request))

    async def aclose(self) -> None:
        """Nothing to release: the sandbox lives as long as its owner keeps it."""


def _named_by_list(sandbox: Sandbox, request: UpstreamRequest) -> UpstreamRequest:
    """A sign-up form the proxy forwards in sandbox mode without a public key (no `?a=`,
    no KLP_PUBLIC_KEY) goes to the account holding its list, as the legacy form's list
    named its account. Only the proxy's own in-process sandbox does this: over HTTP the
    sandbox still answers 400 for a missing company_id, as Klaviyo does."""
    if (request.method, request.path) != SIGN_UP or dict(request.query).get("company_id"):
        return request
    try:
        list_id = orjson.loads(request.body or b"")["data"]["relationships"]["list"]["data"]["id"]
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return request
    owner = sandbox.list_owner(str(list_id))
    if owner is None:
        return request
    query = (("company_id", owner.public_key), *((k, v) for k, v in request.query if k != "company_id"))
    return replace(request, query=query)
