"""Fixtures that load Klaviyo's real OpenAPI files; a missing file fails loudly."""

from __future__ import annotations

import pytest

from proxy.openapi import Spec, default_spec_path


def _load(beta: bool) -> Spec:
    path = default_spec_path(beta=beta)
    if not path.is_file():
        variable = "KLAVIYO_OPENAPI_BETA_SPEC" if beta else "KLAVIYO_OPENAPI_SPEC"
        pytest.fail(f"Klaviyo OpenAPI file missing ({path} does not exist): unset {variable}", pytrace=False)
    return Spec.load(path)


@pytest.fixture(scope="session")
def spec() -> Spec:
    return _load(beta=False)


@pytest.fixture(scope="session")
def beta_spec() -> Spec:
    return _load(beta=True)


@pytest.fixture
def api_headers() -> dict[str, str]:
    return {
        "revision": "2026-07-15",
        "Authorization": "Klaviyo-API-Key pk_test_0123456789",
        "Content-Type": "application/vnd.api+json",
    }


@pytest.fixture
def client_headers() -> dict[str, str]:
    return {"revision": "2026-07-15", "Content-Type": "application/vnd.api+json"}
