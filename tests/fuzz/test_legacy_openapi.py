"""schemathesis against the legacy OpenAPI document the proxy serves, with the proxy in
front of the sandbox: every generated request gets a legacy answer (legacy_dialects.py),
and every upstream call it causes passes the contract check.

One test per operation: schemathesis' examples and coverage phases (boundary values,
missing and malformed parameters, undeclared methods) and a fixed number of fuzzed
cases, from a fixed seed. The document is built at import, from the same function the
`/__proxy/openapi.json` route calls, because pytest parametrizes at collection;
`schemathesis.pytest.from_fixture` would load it from the live proxy, but it fails on
pytest 9 (it sets `Item._nodeid`, which pytest 9 no longer has).
"""

from __future__ import annotations

import pytest
import requests
import schemathesis
from legacy_dialects import assert_legacy_answer, family
from schemathesis.checks import unsupported_method

from proxy.config import Settings
from proxy.mapping.table import load_table
from proxy.sandbox import DEMO_PRIVATE_KEY
from proxy.staging.legacy_openapi import legacy_openapi

CONFIG = schemathesis.Config.from_dict(
    {
        "seed": 20260715,
        "generation": {"deterministic": True, "max-examples": 15, "database": "none"},
        # What is generated depends on the seed alone: nothing learnt from the answers (ids,
        # timestamps) or from constants in the code base feeds back into it.
        "phases": {
            "examples": {"extra-data-sources": {"responses": False}},
            "coverage": {"extra-data-sources": {"responses": False}},
            "fuzzing": {"extra-data-sources": {"responses": False}, "error-feedback": {"enabled": False}},
            "stateful": {"enabled": False},
        },
        "analysis": {"constants": {"enabled": False}},
        # The document cannot say "one of email, phone_number or person_id", nor that the
        # legacy API served its maximum `count` rather than refusing more, so schemathesis'
        # own guesses about which requests must pass or fail do not apply.
        "checks": {
            "positive_data_acceptance": {"enabled": False},
            "negative_data_rejection": {"enabled": False},
            "not_a_server_error": {"enabled": False},  # assert_legacy_answer tells which 5xx are legitimate
        },
        "auth": {"openapi": {"api_key_query": {"api_key": DEMO_PRIVATE_KEY}, "api_key_header": {"api_key": DEMO_PRIVATE_KEY}}},
    }
)


pytestmark = pytest.mark.usefixtures("quiet_printer")
schema = schemathesis.openapi.from_dict(legacy_openapi(load_table(Settings().mappings_dir)), config=CONFIG)


@schema.parametrize()
def test_every_generated_request_gets_a_legacy_answer(case, live):
    mark = live.mark()
    response = case.call(base_url=live.proxy_url, timeout=10)
    arrivals, violations = live.since(mark)
    sent = f"{case.method} {response.request.url}".replace(DEMO_PRIVATE_KEY, "<key>")
    assert violations == [], sent
    assert_legacy_answer(sent, case.operation.path, response.status_code, response.content, arrivals)
    # track/identify answer every method with `0`, as the legacy endpoints did.
    case.validate_response(response, excluded_checks=[unsupported_method] if family(case.operation.path) == "public" else [])


def test_the_fuzzed_document_is_the_one_the_proxy_serves(live):
    """Built in-process at import (test collection needs the operations), it must equal
    what `/__proxy/openapi.json` answers."""
    assert requests.get(f"{live.proxy_url}/__proxy/openapi.json", timeout=10).json() == schema.raw_schema
