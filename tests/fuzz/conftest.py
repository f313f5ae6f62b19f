from __future__ import annotations

import hypothesis.core
import pytest
import schemathesis.pytest  # noqa: F401  (imported before the printer is put back below)
from hypothesis.vendor.pretty import RepresentationPrinter
from live_stack import LiveStack

# Importing schemathesis swaps Hypothesis' example printer, process-wide, for one that
# prints nothing: printing every case it generates would cost minutes. Every other
# property test in the session would then report `x=,` for its failing example, so the
# real printer goes back, and schemathesis' own tests borrow the quiet one.
QUIET_PRINTER = hypothesis.core.RepresentationPrinter
hypothesis.core.RepresentationPrinter = RepresentationPrinter


@pytest.fixture(scope="module")
def quiet_printer():
    hypothesis.core.RepresentationPrinter = QUIET_PRINTER
    yield
    hypothesis.core.RepresentationPrinter = RepresentationPrinter


@pytest.fixture(scope="session")
def live(spec, beta_spec):
    """The proxy in front of the sandbox, both listening on loopback for the whole run."""
    with LiveStack(spec, beta_spec) as stack:
        yield stack
        assert stack.contract.violations == [], "upstream calls broke the spec:\n" + "\n".join(stack.contract.violations)
