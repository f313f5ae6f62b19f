"""Start-up as a user meets it: the command line, one-line failures, warnings said once,
the sandbox never running unvalidated, and the health check containers run."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from processes import free_port

from proxy.cli import _parser, main
from proxy.config import Settings, load_settings
from proxy.revision import PINNED_REVISION
from proxy.sandbox.seed import DEMO_PRIVATE_KEY


def clean_environment(**extra: str) -> dict[str, str]:
    """The caller's environment without any KLP_ or KLAVIYO_ setting, plus `extra`."""
    kept = {k: v for k, v in os.environ.items() if not k.startswith(("KLP_", "KLAVIYO_"))}
    return {**kept, **extra}


def test_config_is_accepted_before_and_after_the_command():
    assert _parser().parse_args(["serve", "--config", "after.yaml"]).config == Path("after.yaml")
    assert _parser().parse_args(["--config", "before.yaml", "serve"]).config == Path("before.yaml")
    assert _parser().parse_args(["check", "--config", "c.yaml"]).config == Path("c.yaml")


def test_a_config_file_after_the_command_is_read(tmp_path, capsys, monkeypatch):
    for name in list(os.environ):
        if name.startswith("KLP_"):
            monkeypatch.delenv(name)
    config = tmp_path / "proxy.yaml"
    config.write_text("port: nope\n")
    assert main(["serve", "--config", str(config)]) == 2
    assert capsys.readouterr().err.strip() == f"klaviyo-legacy-proxy: {config}: setting port='nope': must be a number"


def test_a_busy_port_is_one_line_and_no_traceback(capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["serve", "--sandbox", "--port", str(port)]) == 2
    captured = capsys.readouterr()
    assert captured.err.strip() == f"klaviyo-legacy-proxy: cannot listen on 127.0.0.1:{port}: Address already in use"
    assert "on http://" not in captured.out  # nothing claimed to be serving


def test_the_sandbox_refuses_to_start_without_a_readable_spec(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("KLAVIYO_OPENAPI_SPEC", str(tmp_path / "missing.json"))
    assert main(["sandbox", "--port", str(free_port())]) == 2
    assert main(["serve", "--sandbox", "--port", str(free_port())]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 2
    assert all(line.startswith(f"klaviyo-legacy-proxy: OpenAPI document {tmp_path / 'missing.json'}: ") for line in lines)
    assert "KLAVIYO_OPENAPI_SPEC" in lines[0]


async def test_the_sandbox_started_from_another_folder_validates_requests(tmp_path):
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "proxy.cli", "sandbox", "--port", str(port)],
        cwd=tmp_path, env=clean_environment(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    headers = {"Authorization": f"Klaviyo-API-Key {DEMO_PRIVATE_KEY}", "revision": PINNED_REVISION}
    try:
        async with aiohttp.ClientSession() as session:
            await wait_for_port(session, f"http://127.0.0.1:{port}/__sandbox/state", process)
            async with session.get(f"http://127.0.0.1:{port}/api/profiles", params={"bogus": "1"}, headers=headers) as reply:
                assert reply.status == 400
                assert (await reply.json())["errors"][0]["source"] == {"parameter": "bogus"}
            async with session.get(f"http://127.0.0.1:{port}/api/profiles", headers=headers) as reply:
                assert reply.status == 200
    finally:
        process.terminate()
        process.wait(10)


async def wait_for_port(session: aiohttp.ClientSession, url: str, process: subprocess.Popen, **kwargs) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read().decode() if process.stderr else "exited"
        try:
            async with session.get(url, **kwargs) as reply:
                if reply.status < 500:
                    return
        except aiohttp.ClientError:
            await asyncio.sleep(0.2)
    raise AssertionError(f"nothing answered {url}")


def test_production_start_up_names_what_sign_up_posts_need():
    (warning,) = Settings().startup_warnings()
    assert "KLP_PUBLIC_KEY" in warning and "KLP_PRIVATE_KEY" in warning and "/ajax/subscriptions/subscribe" in warning
    assert Settings(public_key="AbC123").startup_warnings() == []
    assert Settings(private_key="pk_" + "a" * 34).startup_warnings() == []
    assert Settings(sandbox=True).startup_warnings() == []  # the sandbox finds the list's account


def test_start_up_warns_when_the_private_key_mode_cannot_take_effect():
    without_key = load_settings(environ={"KLP_PRIVATE_KEY_MODE": "fallback", "KLP_PUBLIC_KEY": "AbC123"})
    assert without_key.startup_warnings() == [
        "KLP_PRIVATE_KEY_MODE=fallback has no effect without KLP_PRIVATE_KEY: every request is sent with its own key"
    ]
    screened = load_settings(environ={
        "KLP_PRIVATE_KEY": "pk_" + "a" * 34, "KLP_PRIVATE_KEY_MODE": "always", "KLP_ALLOWED_KEYS": "pk_" + "b" * 34,
    })
    (warning,) = screened.startup_warnings()
    assert "KLP_ALLOWED_KEYS" in warning and "placeholder" in warning
    assert load_settings(environ={"KLP_PRIVATE_KEY": "pk_" + "a" * 34, "KLP_PRIVATE_KEY_MODE": "always"}).startup_warnings() == []


async def test_serve_says_the_warning_once_at_start_up(tmp_path):
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "proxy.cli", "serve", "--port", str(port), "--upstream", "http://127.0.0.1:9"],
        cwd=tmp_path, env=clean_environment(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    try:
        async with aiohttp.ClientSession() as session:
            await wait_for_port(session, f"http://127.0.0.1:{port}/healthz", process)
    finally:
        process.terminate()
        out, err = process.communicate(timeout=10)
    assert out.decode().splitlines()[0] == f"klaviyo-legacy-proxy on http://127.0.0.1:{port} → http://127.0.0.1:9"
    assert err.decode().count("warning: sign-up form posts") == 1


async def test_health_follows_the_configured_port(aiohttp_server, monkeypatch):
    async def healthz(_request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    server = await aiohttp_server(app)
    monkeypatch.setenv("KLP_PORT", str(server.port))
    monkeypatch.setenv("KLP_HOST", "0.0.0.0")  # as the image listens; the check probes loopback
    assert await asyncio.to_thread(main, ["health"]) == 0
    monkeypatch.setenv("KLP_PORT", str(free_port()))
    assert await asyncio.to_thread(main, ["health"]) == 1
