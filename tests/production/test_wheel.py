"""The wheel the image installs carries everything `serve`, `check` and the sandbox need:
built from the sources, installed outside the repository, run from an empty folder with
no KLAVIYO_OPENAPI_* or KLP_* variables."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import aiohttp
import pytest
from processes import free_port
from test_startup import clean_environment, wait_for_port

from proxy.revision import PINNED_REVISION
from proxy.sandbox.seed import DEMO_PRIVATE_KEY

ROOT = Path(__file__).resolve().parents[2]
# What deploy/Dockerfile copies into its build stage (and .dockerignore lets through).
IMAGE_SOURCES = ("pyproject.toml", "README.md", "mappings", "proxy")


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The wheel, built offline from a copy of the image's sources, unpacked into a folder
    that is put on PYTHONPATH (the test environment supplies the dependencies)."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"
    source.mkdir()
    for name in IMAGE_SOURCES:
        copy = shutil.copytree if (ROOT / name).is_dir() else shutil.copy2
        kwargs = {"symlinks": True, "ignore": shutil.ignore_patterns("__pycache__")} if copy is shutil.copytree else {}
        copy(ROOT / name, source / name, **kwargs)
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet", "-w", str(work / "dist"), str(source)],
        capture_output=True, text=True, timeout=300,
    )
    assert built.returncode == 0, built.stderr[-2000:]
    (wheel,) = (work / "dist").glob("klaviyo_legacy_proxy-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "proxy/mappings/lists.yaml" in names and f"proxy/mappings/ratelimits/{PINNED_REVISION}.yaml" in names
    assert f"proxy/openapi/klaviyo/stable-{PINNED_REVISION}.json" in names and "proxy/openapi/klaviyo/LICENSE" in names
    site = work / "site"
    zipfile.ZipFile(wheel).extractall(site)
    return site


def run_from(site: Path, folder: Path, *args: str, **kwargs) -> subprocess.Popen:
    environment = clean_environment(PYTHONPATH=str(site))
    return subprocess.Popen([sys.executable, "-m", "proxy.cli", *args], cwd=folder, env=environment, **kwargs)


def test_the_installed_package_is_the_wheel_not_the_checkout(installed, tmp_path):
    process = run_from(installed, tmp_path, "--help", stdout=subprocess.DEVNULL)
    assert process.wait(30) == 0
    where = subprocess.run(
        [sys.executable, "-c", "import proxy.config as c; print(c.__file__); print(c.Settings().mappings_dir)"],
        cwd=tmp_path, env=clean_environment(PYTHONPATH=str(installed)), capture_output=True, text=True, check=True,
    ).stdout.splitlines()
    assert [Path(line).is_relative_to(installed) for line in where] == [True, True]


def test_check_passes_from_the_wheel(installed, tmp_path):
    process = run_from(installed, tmp_path, "check", stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    output = process.communicate(timeout=120)[0].decode()
    assert process.returncode == 0, output
    assert output.startswith(f"mappings: ") and str(installed) in output.splitlines()[0]


async def test_serve_from_the_wheel_answers_and_its_sandbox_validates(installed, tmp_path):
    port, sandbox_port = free_port(), free_port()
    process = run_from(
        installed, tmp_path, "serve", "--sandbox", "--port", str(port), "--sandbox-port", str(sandbox_port),
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    try:
        async with aiohttp.ClientSession() as session:
            await wait_for_port(session, f"http://127.0.0.1:{port}/healthz", process)
            async with session.get(f"http://127.0.0.1:{port}/api/v1/metrics", params={"api_key": DEMO_PRIVATE_KEY}) as reply:
                assert reply.status == 200
                assert (await reply.json())["object"] == "$list"
            await wait_for_port(session, f"http://127.0.0.1:{sandbox_port}/__sandbox/state", process)
            headers = {"Authorization": f"Klaviyo-API-Key {DEMO_PRIVATE_KEY}", "revision": PINNED_REVISION}
            async with session.get(f"http://127.0.0.1:{sandbox_port}/api/profiles", params={"bogus": "1"}, headers=headers) as reply:
                assert reply.status == 400
    finally:
        process.terminate()
        process.wait(10)
