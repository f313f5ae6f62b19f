from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from proxy.app import create_app
from proxy.config import Settings
from proxy.logs import configure_logging
from proxy.openapi.contract import ContractTransport
from proxy.openapi.spec import Spec, default_spec_path
from proxy.sandbox.seed import DEMO_PRIVATE_KEY, DEMO_PUBLIC_KEY, demo_sandbox
from proxy.sandbox.transport import SandboxTransport

ROOT = Path(__file__).resolve().parents[1]
# What must never appear in anything the proxy logs during the suite.
LEAKS = re.compile(
    re.escape(DEMO_PRIVATE_KEY) + r"|pk_[A-Za-z0-9]{20,}|Klaviyo-API-Key\s+\S+"
    r"|[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+\.[A-Za-z]{2,}|\+1\d{10}\b"
)
_leaks: list[str] = []
# Log events that mean a mapping entry and its code disagree: the engine answers a
# legacy 500 in production, and any test whose request logged one fails.
CONTRACT_BREACHES = re.compile(r'"event":\s*"(undeclared_upstream_call|envelope_breach)"')


def pytest_configure(config: pytest.Config) -> None:
    configure_logging("info", "json", redact_pii=True)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Scan every log line each test produced (captured stdout/stderr) for secrets and PII."""
    for section, text in report.sections:
        if not section.startswith("Captured std"):
            continue
        for line in text.splitlines():
            if line.startswith("{") and LEAKS.search(line):
                _leaks.append(f"{report.nodeid}: {line[:300]}")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    report = outcome.get_result()
    if report.when != "call" or not report.passed:
        return
    breaches = [
        line
        for section, text in report.sections
        if section.startswith("Captured std")
        for line in text.splitlines()
        if CONTRACT_BREACHES.search(line)
    ]
    if breaches:
        report.outcome = "failed"
        report.longrepr = "a request broke its mapping entry's contract:\n" + "\n".join(breaches[:10])


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _leaks:
        print("\nLog lines leaked keys or PII:\n" + "\n".join(list(dict.fromkeys(_leaks))[:20]))
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(scope="session")
def spec_path() -> Path:
    return default_spec_path()


@pytest.fixture(scope="session")
def spec(spec_path: Path) -> Spec:
    return Spec.load(spec_path)


@pytest.fixture(scope="session")
def beta_spec() -> Spec:
    return Spec.load(default_spec_path(beta=True))


@pytest.fixture
def sandbox():
    return demo_sandbox()


@pytest.fixture
def contract(sandbox, spec, beta_spec):
    """The transport proxies under test talk through: the demo sandbox, every call checked
    against the official spec; any violation fails the test."""
    transport = ContractTransport(SandboxTransport(sandbox), spec, beta_spec)
    yield transport
    assert transport.violations == [], "upstream calls broke the spec:\n" + "\n".join(transport.violations)


@pytest.fixture
def make_proxy(aiohttp_client, contract, spec):
    """A test client for a proxy over `contract`, with settings changed as given."""

    async def make(**changes):
        return await aiohttp_client(create_app(replace(Settings(), **changes), transport=contract, spec=spec))

    return make


@pytest.fixture
async def proxy(make_proxy):
    return await make_proxy()


@pytest.fixture
async def legacy_client(aiohttp_server, contract, monkeypatch):
    """The official legacy Python client (klaviyo==3.1.7), unmodified, pointed at a live proxy."""
    from klaviyo import Klaviyo
    from klaviyo.api_helper import KlaviyoAPI

    server = await aiohttp_server(create_app(Settings(), transport=contract))
    base = f"http://{server.host}:{server.port}/api"
    # The client's base URL is a class constant, also bound as the constructor default.
    monkeypatch.setattr(KlaviyoAPI, "KLAVIYO_API_SERVER", base)
    monkeypatch.setattr(KlaviyoAPI.__init__, "__defaults__", (None, None, base))
    return Klaviyo(public_token=DEMO_PUBLIC_KEY, private_token=DEMO_PRIVATE_KEY)
