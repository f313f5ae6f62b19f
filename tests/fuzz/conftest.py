from __future__ import annotations

import pytest
from live_stack import LiveStack


@pytest.fixture(scope="session")
def live(spec, beta_spec):
    """The proxy in front of the sandbox, both listening on loopback for the whole run."""
    with LiveStack(spec, beta_spec) as stack:
        yield stack
        assert stack.contract.violations == [], "upstream calls broke the spec:\n" + "\n".join(stack.contract.violations)
