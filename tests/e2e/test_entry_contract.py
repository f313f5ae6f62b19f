"""A mapping entry is a contract: the engine refuses any upstream call it does not declare
and any answer outside its declared envelope; `check` names entries that cannot run."""

from dataclasses import replace

import pytest
from structlog.testing import capture_logs

from proxy.app import create_app
from proxy.config import Settings
from proxy.coverage import check_report
from proxy.handlers.registry import HANDLERS
from proxy.mapping.table import NewCall, load_table
from proxy.sandbox.seed import DEMO_PRIVATE_KEY as PRIVATE_KEY
from proxy.sandbox.seed import DEMO_PUBLIC_KEY as PUBLIC_KEY

MAPPINGS = Settings().mappings_dir
INTERNAL_V1 = {"status": 500, "message": "An internal error occurred."}


def with_entry(legacy: str, **changes):
    """The shipped table with one entry changed."""
    return [replace(entry, **changes) if entry.legacy == legacy else entry for entry in load_table(MAPPINGS)]


async def test_a_call_the_entry_does_not_declare_is_refused_before_it_is_sent(aiohttp_client, contract, spec, sandbox):
    # The entry forgets that an update PATCHes the profile: the handler still tries to.
    entries = with_entry("PUT /api/v1/person/{person_id}", calls=(NewCall("GET", "/api/profiles/{id}"),))
    proxy = await aiohttp_client(create_app(Settings(), transport=contract, entries=entries, spec=spec))
    ada = next(iter(sandbox.account(PUBLIC_KEY).profiles))
    with capture_logs() as logs:
        response = await proxy.put(f"/api/v1/person/{ada.id}", params={"api_key": PRIVATE_KEY, "$first_name": "Changed"})
    assert response.status == 500
    assert await response.json() == INTERNAL_V1
    assert [request.method for request in contract.requests] == [], "the undeclared PATCH never left the proxy"
    assert ada.first_name != "Changed"
    breach = next(line for line in logs if line["event"] == "undeclared_upstream_call")
    assert breach["operation"] == "PATCH /api/profiles/{id}"
    assert breach["route"] == "PUT /api/v1/person/{person_id}"


async def test_path_variables_may_be_named_differently_in_the_declaration(aiohttp_client, contract, spec, sandbox):
    entries = with_entry("PUT /api/v1/person/{person_id}", calls=(NewCall("PATCH", "/api/profiles/{profile_id}"),))
    proxy = await aiohttp_client(create_app(Settings(), transport=contract, entries=entries, spec=spec))
    ada = next(iter(sandbox.account(PUBLIC_KEY).profiles))
    response = await proxy.put(f"/api/v1/person/{ada.id}", params={"api_key": PRIVATE_KEY, "$first_name": "Changed"})
    assert response.status == 200, await response.text()


async def test_an_answer_outside_the_declared_envelope_is_refused(aiohttp_client, contract, spec, sandbox):
    # A handler's answer (a handler-less entry's envelope is checked against its runner at load).
    entries = with_entry("POST /api/v2/data-privacy/deletion-request", envelope="array")
    proxy = await aiohttp_client(create_app(Settings(), transport=contract, entries=entries, spec=spec))
    ada = next(iter(sandbox.account(PUBLIC_KEY).profiles))
    with capture_logs() as logs:
        response = await proxy.post("/api/v2/data-privacy/deletion-request", json={"api_key": PRIVATE_KEY, "person_id": ada.id})
    assert response.status == 500
    assert await response.json() == {"detail": "An internal error occurred."}
    assert any(line["event"] == "envelope_breach" and line["envelope"] == "array" for line in logs)


def test_check_lists_every_entry_whose_handler_is_missing():
    # (The membership checks this once removed are mapping YAML now: no handler to miss.)
    handlers = {name: runner for name, runner in HANDLERS.items() if not name.startswith("subscriptions.")}
    report = check_report(MAPPINGS, handlers=handlers)
    assert not report.ok
    assert report.text.splitlines()[0].endswith("— INVALID")
    missing = [line for line in report.text.splitlines() if "field handler: no handler named" in line]
    assert len(missing) == 5, missing  # subscribe, unsubscribe, two checks and the sign-up form
    assert all(line.startswith("PROBLEM: mappings/subscriptions.yaml entry") for line in missing)


def test_check_lists_declared_calls_the_spec_does_not_have(tmp_path):
    text = (MAPPINGS / "lists.yaml").read_text().replace("DELETE /api/lists/{id}", "DELETE /api/lists/{id}/everything")
    (tmp_path / "mappings").mkdir()
    (tmp_path / "mappings" / "lists.yaml").write_text(text)
    report = check_report(tmp_path / "mappings")
    assert "calls: DELETE /api/lists/{id}/everything is not an operation of revision" in report.text
    assert not report.ok


def test_the_shipped_table_binds_every_entry():
    report = check_report(MAPPINGS)
    assert "PROBLEM: mappings/" not in report.text, report.text


@pytest.mark.parametrize("entry", load_table(MAPPINGS), ids=lambda entry: entry.legacy)
def test_every_handler_of_the_table_is_bound_by_import(entry):
    assert entry.handler is None or callable(HANDLERS[entry.handler])
