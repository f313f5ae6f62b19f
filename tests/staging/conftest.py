from __future__ import annotations

from dataclasses import replace

import pytest

from proxy.app import create_app
from proxy.config import Settings
from proxy.openapi.contract import ContractTransport
from proxy.sandbox.seed import demo_sandbox
from proxy.sandbox.transport import SandboxTransport


@pytest.fixture
def contract(spec, beta_spec):
    transport = ContractTransport(SandboxTransport(demo_sandbox()), spec, beta_spec)
    yield transport
    assert transport.violations == [], "\n".join(transport.violations)


@pytest.fixture
def make_proxy(aiohttp_client, contract, spec):
    async def make(**changes):
        return await aiohttp_client(create_app(replace(Settings(), **changes), transport=contract, spec=spec))

    return make


@pytest.fixture
async def proxy(make_proxy):
    return await make_proxy()
