"""Fixtures for the production write path: a clock the test moves, proxies in front of
the demo sandbox with its real limits, and a real redis-server."""

from __future__ import annotations

import shutil
import subprocess
import time
from dataclasses import replace

import pytest
import redis
from doubles import FakeTime, Recording
from processes import free_port

from proxy.app import create_app
from proxy.config import Settings


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def upstream(contract) -> Recording:
    return Recording(contract)


@pytest.fixture
def make_proxy(aiohttp_client, upstream):
    async def make(state=None, **changes):
        return await aiohttp_client(create_app(replace(Settings(), **changes), transport=upstream, state=state))

    return make


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory) -> str:
    """A real redis-server for the session (never a fake), durable as production runs it."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is not installed: apt-get install -y redis-server (.ci/run does)")
    port, directory = free_port(), tmp_path_factory.mktemp("redis")
    command = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", str(directory),
               "--appendonly", "yes", "--appendfsync", "always"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if time.monotonic() > deadline:
                process.kill()
                pytest.fail("redis-server did not start")
            time.sleep(0.05)
    client.close()
    yield url
    process.terminate()
    process.wait(10)


@pytest.fixture
def redis_url(redis_server) -> str:
    """The session's Redis, emptied for this test."""
    client = redis.Redis.from_url(redis_server)
    client.flushall()
    client.close()
    return redis_server
