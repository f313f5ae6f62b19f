"""`serve --tls-cert/--tls-key`: a client that hard-codes https://a.klaviyo.com and verifies
certificates reaches the proxy once the name resolves to it and it trusts the CA that
signed the proxy's certificate (the hosts-file or sidecar recipe in the README)."""

from __future__ import annotations

import socket
import ssl
import subprocess
import sys

import aiohttp
import pytest
import trustme
from aiohttp.abc import AbstractResolver
from processes import free_port
from test_startup import clean_environment, wait_for_port

from proxy.sandbox.seed import DEMO_PRIVATE_KEY

HOST = "a.klaviyo.com"


class LoopbackResolver(AbstractResolver):
    """What an /etc/hosts line `127.0.0.1 a.klaviyo.com` does, for this client only."""

    async def resolve(self, host: str, port: int = 0, family: int = socket.AF_INET) -> list[dict]:
        assert host == HOST, f"the client asked for {host}"
        return [{"hostname": host, "host": "127.0.0.1", "port": port, "family": socket.AF_INET, "proto": 0,
                 "flags": socket.AI_NUMERICHOST}]

    async def close(self) -> None:
        pass


@pytest.fixture
def authority(tmp_path):
    ca = trustme.CA()
    certificate = ca.issue_cert(HOST)
    certificate.private_key_pem.write_to_path(tmp_path / "key.pem")
    certificate.cert_chain_pems[0].write_to_path(tmp_path / "cert.pem")
    for extra in certificate.cert_chain_pems[1:]:
        with (tmp_path / "cert.pem").open("ab") as chain:
            chain.write(extra.bytes())
    return ca


async def test_a_verifying_https_client_reaches_the_proxy_as_a_klaviyo_com(tmp_path, authority):
    port, sandbox_port = free_port(), free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "proxy.cli", "serve", "--sandbox", "--port", str(port), "--sandbox-port", str(sandbox_port),
         "--tls-cert", str(tmp_path / "cert.pem"), "--tls-key", str(tmp_path / "key.pem")],
        cwd=tmp_path, env=clean_environment(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    trusting = ssl.create_default_context()
    authority.configure_trust(trusting)
    try:
        connector = aiohttp.TCPConnector(resolver=LoopbackResolver(), ssl=trusting)
        async with aiohttp.ClientSession(connector=connector) as session:
            url = f"https://{HOST}:{port}"
            await wait_for_port(session, f"{url}/healthz", process)
            async with session.get(f"{url}/api/v1/metrics", params={"api_key": DEMO_PRIVATE_KEY}) as reply:
                assert reply.status == 200
                assert (await reply.json())["object"] == "$list"
        # Without the test CA the same request fails verification: the proxy's certificate
        # is only as good as the trust the app is given.
        strict = aiohttp.TCPConnector(resolver=LoopbackResolver(), ssl=ssl.create_default_context())
        async with aiohttp.ClientSession(connector=strict) as session:
            with pytest.raises(aiohttp.ClientConnectorCertificateError):
                await session.get(f"https://{HOST}:{port}/healthz")
    finally:
        process.terminate()
        out, _ = process.communicate(timeout=10)
    assert out.decode().splitlines()[0].startswith(f"klaviyo-legacy-proxy on https://127.0.0.1:{port}")


def test_a_certificate_without_its_key_stops_start_up(tmp_path, authority, capsys):
    from proxy.cli import main

    assert main(["serve", "--tls-cert", str(tmp_path / "cert.pem"), "--port", str(free_port())]) == 2
    assert "tls_cert and tls_key" in capsys.readouterr().err
