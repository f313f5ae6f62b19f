"""Routes that exist only as mapping YAML, served end to end through the sandbox: a
`sequence` of declared calls with bodies built from legacy values, and what a failed
later step reports."""

from pathlib import Path

import pytest

from proxy.app import create_app
from proxy.config import Settings
from proxy.mapping.table import load_table
from list_helpers import demo_list, v2

RENAME_AND_READ = """
- chart: []
  beyond_chart: a test route that exists only as YAML
  legacy: POST /api/v2/list/{list_id}/rename-and-read
  auth: api_key
  calls: ["PATCH /api/lists/{id}", "GET /api/lists/{id}", "POST /api/lists"]
  params:
    list_name: {type: str, required: true}
    copy_name: {type: str}
  sequence:
    - call: PATCH /api/lists/{id}
      does: rename list {list_id}
      path_params: {id: "{list_id}"}
      body: {data: {type: list, id: "{path.list_id}", attributes: {name: "{params.list_name}"}}}
    - call: GET /api/lists/{id}
      does: read list {list_id}
      path_params: {id: "{list_id}"}
      query: {"fields[list]": "name"}
    - call: POST /api/lists
      does: copy list {list_id}
      body: {data: {type: list, attributes: {name: "{params.copy_name}"}}}
  answer: 2
  respond: {envelope: object, shape: lists.list_summary}
"""


@pytest.fixture
async def yaml_proxy(aiohttp_client, contract, spec, tmp_path: Path):
    (tmp_path / "extra.yaml").write_text(RENAME_AND_READ)
    entries = [*load_table(Settings().mappings_dir), *load_table(tmp_path)]
    return await aiohttp_client(create_app(Settings(), transport=contract, entries=entries, spec=spec))


async def test_a_sequence_runs_its_steps_in_order_and_answers_the_named_one(yaml_proxy, sandbox, contract):
    newsletter = demo_list(sandbox, "Newsletter")
    response = await v2(yaml_proxy, "POST", f"/api/v2/list/{newsletter.id}/rename-and-read", {"list_name": "Weekly", "copy_name": "Copy"})
    assert response.status == 200, await response.text()
    assert await response.json() == {"list_id": newsletter.id, "list_name": "Weekly"}
    assert [(request.method, request.path) for request in contract.requests] == [
        ("PATCH", f"/api/lists/{newsletter.id}"),
        ("GET", f"/api/lists/{newsletter.id}"),
        ("POST", "/api/lists"),
    ]
    assert contract.requests[1].query == (("fields[list]", "name"),)
    assert newsletter.name == "Weekly"
    assert any(group.name == "Copy" for group in sandbox.accounts[0].lists)


async def test_a_failed_later_step_names_itself_and_what_is_already_done(yaml_proxy, sandbox, contract):
    newsletter = demo_list(sandbox, "Newsletter")
    # A blank name is a valid request Klaviyo (the sandbox) refuses, after the rename is done.
    payload = {"list_name": "Weekly", "copy_name": "  "}
    response = await v2(yaml_proxy, "POST", f"/api/v2/list/{newsletter.id}/rename-and-read", payload)
    assert response.status == 400
    detail = (await response.json())["detail"]
    assert f"(failed step: copy list {newsletter.id}; already done: rename list {newsletter.id})" in detail
    assert contract.requests[-1].method == "POST" and newsletter.name == "Weekly"


async def test_a_missing_required_value_stops_before_any_call(yaml_proxy, sandbox, contract):
    newsletter = demo_list(sandbox, "Newsletter")
    response = await v2(yaml_proxy, "POST", f"/api/v2/list/{newsletter.id}/rename-and-read", {})
    assert response.status == 400
    assert contract.requests == []
