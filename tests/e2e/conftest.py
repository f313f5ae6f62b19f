from __future__ import annotations

import pytest

from proxy.sandbox.seed import DEMO_PRIVATE_KEY
from proxy.sandbox.transport import SandboxTransport
from proxy.upstream.client import Call, Credentials, UpstreamClient

PRIVATE_KEY = DEMO_PRIVATE_KEY


@pytest.fixture
def new_api(sandbox):
    """Read the sandbox through the new API itself, as a migrated client would."""
    client = UpstreamClient(SandboxTransport(sandbox))

    async def get(path: str, **query: str):
        reply = await client.send(Call("GET", path, query=tuple(query.items())), Credentials(PRIVATE_KEY))
        return reply.document

    return get
