from __future__ import annotations

from pathlib import Path

import pytest

from proxy.openapi.spec import Spec, default_spec_path

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def spec_path() -> Path:
    path = default_spec_path()
    if path is None:
        pytest.fail(
            "Klaviyo's OpenAPI spec for 2026-07-15 was not found: set KLAVIYO_OPENAPI_SPEC "
            "(see README, 'The mapping table')"
        )
    return path


@pytest.fixture(scope="session")
def spec(spec_path: Path) -> Spec:
    return Spec.load(spec_path)


@pytest.fixture(scope="session")
def beta_spec() -> Spec | None:
    path = default_spec_path(beta=True)
    return Spec.load(path) if path else None
