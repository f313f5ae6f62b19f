"""The mapping table's declarative steps: a write's `body`, a `sequence` of declared calls
and `match` (the people a request names). Bad references fail at load with entry and field
named; the shipped entries build the bodies their handlers used to."""

from pathlib import Path

import pytest

from proxy.coverage import check_report
from proxy.engine.bodies import build
from proxy.engine.dispatch import runner_for
from proxy.handlers.registry import HANDLERS
from proxy.mapping.table import MappingError, load_table
from proxy.shapes.conversions import InvalidValue, json_object, utc_time

MAPPINGS = Path(__file__).resolve().parents[2] / "mappings"

WRITE = """
- chart: ["PUT /api/v1/email-template/{template_id} → PATCH /api/templates/{id}"]
  legacy: PUT /api/v1/email-template/{template_id}
  auth: api_key
  calls: ["PATCH /api/templates/{id}"]
  params:
    name: {type: str}
  path_params: {id: "{template_id}"}
  body: {data: {type: template, id: "{path.template_id}", attributes: {name: "{params.name}"}}}
  respond: {envelope: object, shape: template.legacy_template}
"""

SEQUENCE = """
- chart: ["DELETE /api/v1/email-template/{template_id} → DELETE /api/templates/{id}"]
  legacy: DELETE /api/v1/email-template/{template_id}
  auth: api_key
  calls: ["GET /api/templates/{id}", "DELETE /api/templates/{id}"]
  sequence:
    - call: GET /api/templates/{id}
      does: read template {template_id}
      path_params: {id: "{template_id}"}
    - call: DELETE /api/templates/{id}
      does: delete template {template_id}
      path_params: {id: "{template_id}"}
  answer: 1
  respond: {envelope: object, shape: template.legacy_template}
"""

MATCH = """
- chart: []
  beyond_chart: test
  legacy: GET /api/v2/list/{list_id}/members
  auth: api_key
  calls: ["GET /api/lists/{id}/profiles"]
  path_params: {id: "{list_id}"}
  match: {at_most: 100}
  respond: {envelope: array, shape: members.check_record}
"""


def shipped(legacy: str):
    return next(entry for entry in load_table(MAPPINGS) if entry.legacy == legacy)


def binding_error(tmp_path: Path, text: str) -> str:
    """Why the one entry of `text` loads but cannot be bound to a runner."""
    (tmp_path / "m.yaml").write_text(text)
    (entry,) = load_table(tmp_path)
    with pytest.raises(MappingError) as caught:
        runner_for(entry, HANDLERS)
    assert f"{tmp_path.name}/m.yaml entry 1" in str(caught.value)
    return str(caught.value)


def test_the_examples_bind(tmp_path: Path):
    for text in (WRITE, SEQUENCE, MATCH):
        (tmp_path / "m.yaml").write_text(text)
        (entry,) = load_table(tmp_path)
        assert runner_for(entry, HANDLERS)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (('"{params.name}"', '"{params.nme}"'), "field body.data.attributes.name: 'nme' is not in params"),
        (('"{path.template_id}"', '"{path.id}"'), "field body.data.id: 'id' is not in the legacy path"),
        (('"{params.name}"', '"Hi {params.name}"'), "field body.data.attributes.name: 'Hi {params.name}' is neither a constant nor a whole"),
        (('"{params.name}"', '"{params.name|shout}"'), "field body.data.attributes.name: no conversion named 'shout'"),
        (('["PATCH /api/templates/{id}"]', '["GET /api/templates/{id}"]'), "field body: only an entry's one write takes a body"),
    ],
)  # fmt: skip
def test_a_body_names_only_declared_values(tmp_path: Path, change, message):
    assert message in binding_error(tmp_path, WRITE.replace(*change))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (('calls: ["GET /api/templates/{id}", "DELETE /api/templates/{id}"]', 'calls: ["GET /api/templates/{id}"]'),
         "field sequence.1.call: DELETE /api/templates/{id} is not declared in calls"),
        (('"DELETE /api/templates/{id}"]', '"DELETE /api/templates/{id}", "POST /api/template-clone"]'),
         "field calls: no step makes POST /api/template-clone"),
        (("answer: 1", "answer: 3"), "field answer: the sequence has 2 steps"),
        (("  answer: 1\n", ""), "field answer: step 2 deletes, and a deletion answers no document to shape"),
        (("does: read template {template_id}", "does: read template {id}"), "field sequence.0.does: ['id'] not in"),
        (('      does: read template {template_id}\n      path_params: {id: "{template_id}"}\n',
          "      does: read template {template_id}\n"), "field sequence.0.path_params: must bind exactly ['id']"),
        (("  answer: 1\n", '  answer: 1\n  path_params: {id: "{template_id}"}\n'),
         "field path_params: a sequence's steps say their own calls"),
        (("respond: {envelope: object,", "respond: {envelope: array,"), "field respond.envelope: sequence answers object or empty"),
    ],
)  # fmt: skip
def test_a_sequence_makes_exactly_its_declared_calls(tmp_path: Path, change, message):
    assert message in binding_error(tmp_path, SEQUENCE.replace(*change))


def test_a_sequence_step_is_checked_at_load(tmp_path: Path):
    (tmp_path / "m.yaml").write_text(SEQUENCE.replace("      does: delete template {template_id}\n", ""))
    with pytest.raises(MappingError, match=r"entry 1 .*field sequence\.1: 'does' is a required property"):
        load_table(tmp_path)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("  match: {at_most: 100}\n", "  match: {at_most: 100}\n  paginate: all\n"), "field paginate: match reads no pages"),
        (("respond: {envelope: array,", "respond: {envelope: object,"), "field respond.envelope: match answers array"),
        (("  match: {at_most: 100}\n", "  match: {}\n  lookup: {email: email}\n  params: {email: {type: str}}\n"),
         "an entry takes one of lookup, match and sequence"),
    ],
)  # fmt: skip
def test_a_match_is_one_read_answering_an_array(tmp_path: Path, change, message):
    assert message in binding_error(tmp_path, MATCH.replace(*change))


def test_a_handler_entry_carries_no_declarative_steps(tmp_path: Path):
    text = WRITE.replace("  path_params:", "  handler: templates.send\n  path_params:").replace(", shape: template.legacy_template", "")
    assert "field body: a handler makes its own calls; remove it" in binding_error(tmp_path, text)


def test_check_names_the_entry_and_field_of_an_unknown_reference(tmp_path: Path):
    text = (MAPPINGS / "templates.yaml").read_text().replace('"{params.html}"}}}', '"{params.body}"}}}', 1)
    (tmp_path / "mappings").mkdir()
    (tmp_path / "mappings" / "templates.yaml").write_text(text)
    report = check_report(tmp_path / "mappings")
    assert not report.ok
    assert (
        "PROBLEM: mappings/templates.yaml entry 2 (POST /api/v1/email-templates): "
        "field body.data.attributes.html: 'body' is not in params"
    ) in report.text


def test_absent_values_leave_their_key_out_and_given_ones_keep_their_type():
    update = shipped("PUT /api/v1/email-template/{template_id}")
    assert build(update.body, {"name": "New", "html": None}, {"template_id": "RipRmi"}) == {
        "data": {"type": "template", "id": "RipRmi", "attributes": {"name": "New"}}
    }
    assert build(update.body, {"name": None, "html": None}, {"template_id": "RipRmi"})["data"]["attributes"] == {}
    render = shipped("POST /api/v1/email-template/{template_id}/render")
    context = {"order": {"id": 5001, "items": [1, 2]}}
    assert build(render.body, {"context": context}, {"template_id": "T"})["data"]["attributes"] == {"context": context}
    assert build(render.body, {"context": None}, {"template_id": "T"})["data"]["attributes"] == {"context": {}}


def test_the_shipped_bodies_are_the_documents_the_handlers_sent():
    create = shipped("POST /api/v1/email-templates")
    assert build(create.body, {"name": "W", "html": "<p/>"}, {}) == {
        "data": {"type": "template", "attributes": {"editor_type": "CODE", "name": "W", "html": "<p/>"}}
    }
    rename = shipped("PUT /api/v2/list/{list_id}")
    assert build(rename.body, {"list_name": "News"}, {"list_id": "M2q6kN"}) == {
        "data": {"type": "list", "attributes": {"name": "News"}, "id": "M2q6kN"}
    }
    schedule = shipped("POST /api/v1/campaign/{campaign_id}/schedule")
    patch, job = (build(step.body, {"send_time": "2031-01-13 00:00:00"}, {"campaign_id": "C1"}) for step in schedule.sequence)
    assert patch == {"data": {"type": "campaign", "id": "C1", "attributes": {"send_strategy": {
        "method": "static", "datetime": "2031-01-13T00:00:00+00:00", "options": {"is_local": False}}}}}  # fmt: skip
    assert job == {"data": {"type": "campaign-send-job", "id": "C1"}}


@pytest.mark.parametrize(
    ("send_time", "iso"),
    [
        ("2031-01-13 00:00:00", "2031-01-13T00:00:00+00:00"),
        ("2031-01-13T01:30:00+01:00", "2031-01-13T00:30:00+00:00"),
        (None, None),
    ],
)
def test_utc_time_reads_legacy_utc_times(send_time, iso):
    assert utc_time(send_time, "send_time") == iso


def test_conversions_refuse_other_values_by_name():
    with pytest.raises(InvalidValue, match="Invalid value for send_time: must be a UTC time"):
        utc_time("next tuesday", "send_time")
    with pytest.raises(InvalidValue, match="Invalid value for context: must be a JSON object."):
        json_object(["a"], "context")
    assert json_object(None, "context") == {}
