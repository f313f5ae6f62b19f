from __future__ import annotations

import asyncio

import pytest

from proxy.sandbox.seed import DEMO_PRIVATE_KEY, DEMO_PUBLIC_KEY
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


@pytest.fixture
def after_jobs(sandbox, new_api):
    """Wait for the sandbox's queued jobs as a client waits on Klaviyo's: past the job
    delay, the next request sees them done."""

    async def wait() -> None:
        await asyncio.sleep(sandbox.account(DEMO_PUBLIC_KEY).jobs.delay)
        await new_api("/api/lists")

    return wait
