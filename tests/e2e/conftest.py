from __future__ import annotations

from dataclasses import replace

import pytest

from proxy.app import create_app
from proxy.config import Settings
from proxy.sandbox.seed import DEMO_PRIVATE_KEY, DEMO_PUBLIC_KEY, demo_sandbox
from proxy.sandbox.transport import SandboxTransport
from proxy.upstream.client import Call, Credentials, UpstreamClient
from proxy.openapi.contract import ContractTransport

PRIVATE_KEY = DEMO_PRIVATE_KEY
PUBLIC_KEY = DEMO_PUBLIC_KEY


@pytest.fixture
def sandbox():
    return demo_sandbox()


@pytest.fixture
def contract(sandbox, spec, beta_spec):
    transport = ContractTransport(SandboxTransport(sandbox), spec, beta_spec)
    yield transport
    assert transport.violations == [], "upstream calls broke the spec:\n" + "\n".join(transport.violations)


@pytest.fixture
def settings() -> Settings:
    return Settings()


@pytest.fixture
def make_proxy(aiohttp_client, contract):
    async def make(**changes):
        return await aiohttp_client(create_app(replace(Settings(), **changes), transport=contract))

    return make


@pytest.fixture
async def proxy(make_proxy):
    return await make_proxy()


@pytest.fixture
def new_api(sandbox):
    """Read the sandbox through the new API itself, as a migrated client would."""
    client = UpstreamClient(SandboxTransport(sandbox))

    async def get(path: str, **query: str):
        reply = await client.send(Call("GET", path, query=tuple(query.items())), Credentials(PRIVATE_KEY))
        return reply.document

    return get
