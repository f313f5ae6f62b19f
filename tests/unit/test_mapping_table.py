from dataclasses import replace
from pathlib import Path

import pytest

from proxy.engine.dispatch import runner_for
from proxy.handlers.registry import HANDLERS
from proxy.mapping.routes import MethodNotAllowed, RouteNotFound, Router
from proxy.mapping.table import MappingError, NewCall, load_table

ROOT_MAPPINGS = Path(__file__).resolve().parents[2] / "mappings"

MAPPINGS = Path(__file__).resolve().parents[2] / "mappings"

GOOD = """
- chart: ["GET /api/v1/metrics → GET /api/metrics"]
  legacy: GET /api/v1/metrics
  auth: api_key
  calls: [GET /api/metrics]
  params:
    page: {type: int, default: 0}
    count: {type: int, default: 50, max: 100}
  paginate: page_list
  respond: {envelope: page_list, shape: metric.legacy_metric}
"""


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "m.yaml").write_text(text)
    return tmp_path


def binding_error(tmp_path: Path, text: str) -> str:
    """Why the one entry of `text` loads but cannot be bound to a runner."""
    (entry,) = load_table(write(tmp_path, text))
    with pytest.raises(MappingError) as caught:
        runner_for(entry, HANDLERS)
    return str(caught.value)


def test_the_shipped_table_loads_and_every_entry_has_a_runner():
    entries = load_table(MAPPINGS)
    assert entries
    for entry in entries:
        assert runner_for(entry, HANDLERS)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("auth: api_key", "auth: cookie"), "entry 1 (GET /api/v1/metrics): field auth: 'cookie' is not one of"),
        (("calls: [GET /api/metrics]", "calls: [GET api/metrics]"), "field calls.0: 'GET api/metrics' does not match"),
        (("type: int, default: 0}", "type: integer, default: 0}"), "field params.page.type"),
        (("shape: metric.legacy_metric", "shape: metric.nope"), "field respond.shape: no shape named 'metric.nope'"),
        (("paginate: page_list", "paginate: pages"), "field paginate"),
        (("  legacy: GET", "  color: red\n  legacy: GET"), "Additional properties are not allowed ('color'"),
    ],
)
def test_a_bad_entry_names_file_entry_and_field(tmp_path: Path, change, message):
    directory = write(tmp_path, GOOD.replace(*change))
    with pytest.raises(MappingError) as caught:
        for entry in load_table(directory):
            runner_for(entry, HANDLERS)
    assert f"{tmp_path.name}/m.yaml entry 1" in str(caught.value)
    assert message in str(caught.value)


def test_unknown_handler_is_reported(tmp_path: Path):
    text = GOOD.replace("  paginate: page_list\n", "  handler: public.nope\n").replace(", shape: metric.legacy_metric", "")
    (entry,) = load_table(write(tmp_path, text))
    with pytest.raises(MappingError, match="field handler: no handler named 'public.nope'"):
        runner_for(entry, HANDLERS)


def test_page_list_needs_its_params(tmp_path: Path):
    text = GOOD.replace("    page: {type: int, default: 0}\n", "")
    (entry,) = load_table(write(tmp_path, text))
    with pytest.raises(MappingError, match="paginate page_list needs page"):
        runner_for(entry, HANDLERS)


def test_duplicate_routes_are_rejected(tmp_path: Path):
    with pytest.raises(MappingError, match="also mapped by"):
        load_table(write(tmp_path, GOOD + GOOD))


def test_invalid_yaml_is_reported(tmp_path: Path):
    with pytest.raises(MappingError, match="not valid YAML"):
        load_table(write(tmp_path, "- chart: [unclosed"))


def test_router_matches_raw_paths_and_decodes_ids():
    router = Router(load_table(MAPPINGS))
    match = router.match("GET", "/api/v1/metric/AbC%2F..%2Fx/timeline")
    assert match.entry.path == "/api/v1/metric/{metric_id}/timeline"
    assert match.path_params == {"metric_id": "AbC/../x"}
    assert router.match("GET", "/api/v1/metrics/").entry.path == "/api/v1/metrics"
    with pytest.raises(RouteNotFound):
        router.match("GET", "/api/v1/metric/a/b/timeline")
    with pytest.raises(MethodNotAllowed) as caught:
        router.match("DELETE", "/api/v1/metrics")
    assert caught.value.allowed == ("GET",)


SINGLE = """
- chart: ["GET /api/v1/person/{person_id} → GET /api/profiles/{id}"]
  legacy: GET /api/v1/person/{person_id}
  auth: api_key
  calls: ["GET /api/profiles/{id}"]
  path_params: {id: "{person_id}"}
  respond: {envelope: object, shape: person.legacy_person}
"""


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (('  path_params: {id: "{person_id}"}\n', ""), "field path_params: must bind exactly ['id']"),
        (('{id: "{person_id}"}', '{id: "{profile}"}'), "field path_params.id: ['profile'] not in /api/v1/person/{person_id}"),
    ],
)
def test_path_params_bind_the_call_to_the_legacy_path(tmp_path: Path, change, message):
    assert message in binding_error(tmp_path, SINGLE.replace(*change))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("paginate: page_list", "paginate: all"), "field respond.envelope: paginate all answers array"),
        (("respond: {envelope: page_list, shape: metric.legacy_metric}", "respond: {envelope: empty, shape: metric.legacy_metric}"),
         "field respond.shape: an empty answer has no shape"),
        (("  paginate: page_list\n", ""), "field respond.envelope: paginate none answers object or empty"),
        (("calls: [GET /api/metrics]", "calls: [GET /api/metrics, GET /api/events]"), "field calls: without a handler an entry makes exactly one call"),
    ],
)  # fmt: skip
def test_a_handler_less_entry_says_what_its_runner_does(tmp_path: Path, change, message):
    assert message in binding_error(tmp_path, GOOD.replace(*change))


def test_a_write_with_an_empty_answer_needs_no_shape_and_takes_none(tmp_path: Path):
    text = SINGLE.replace("GET /api/v1/person/{person_id}\n", "DELETE /api/v1/person/{person_id}\n")
    text = text.replace('["GET /api/profiles/{id}"]', '["DELETE /api/profiles/{id}"]')
    (entry,) = load_table(write(tmp_path, text.replace("{envelope: object, shape: person.legacy_person}", "{envelope: empty}")))
    assert runner_for(entry, HANDLERS)
    shaped = text.replace("envelope: object", "envelope: empty")
    assert "field respond.shape: an empty answer has no shape" in binding_error(tmp_path, shaped)


LOOKUP = """
- chart: []
  beyond_chart: test
  legacy: GET /api/v2/people/search
  auth: api_key
  calls: [GET /api/profiles]
  params:
    email: {type: str}
  lookup: {email: email}
  respond: {envelope: object, shape: person.profile_id}
"""


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("lookup: {email: email}", "lookup: {email: email, phone: phone_number}"), "field lookup: phone not in params"),
        (("calls: [GET /api/profiles]", "calls: [GET /api/events]"), "field lookup: answers one object from one GET /api/profiles"),
    ],
)
def test_a_lookup_names_declared_params_and_reads_profiles(tmp_path: Path, change, message):
    (entry,) = load_table(write(tmp_path, LOOKUP))
    assert runner_for(entry, HANDLERS)
    assert message in binding_error(tmp_path, LOOKUP.replace(*change))


def test_an_entry_declares_the_operations_of_its_calls_whatever_their_variables_are_named():
    entry = next(entry for entry in load_table(ROOT_MAPPINGS) if any("{" in call.path for call in entry.calls))
    call = next(call for call in entry.calls if "{" in call.path)
    renamed = call.path.replace("{", "{renamed_").lower()
    assert entry.declares(call.method.lower(), renamed)
    assert not entry.declares(call.method, call.path + "/elsewhere")
    moved = replace(entry, calls=(NewCall("GET", "/api/elsewhere"),))  # worked out again for a changed copy
    assert moved.declares("GET", "/api/elsewhere") and not moved.declares(call.method, call.path)
