"""The gates every request passes: route, revision, credentials, spec; and the error format."""

from __future__ import annotations

import pytest
from sandbox_helpers import profile_body

from proxy.sandbox import Account, Sandbox
from proxy.sandbox.routing import Reply, Route, Router


async def test_errors_are_json_api_documents(api):
    answer = await api.get("/api/nothing-here")
    assert answer.status == 404
    assert answer.headers["Content-Type"] == "application/vnd.api+json"
    error = answer.error
    assert error["status"] == 404 and error["code"] == "not_found"
    assert {"id", "title", "detail"} <= set(error)


async def test_a_known_path_with_another_method_is_405(api):
    answer = await api.request("DELETE", "/api/metrics")
    assert (answer.status, answer.error["code"]) == (405, "method_not_allowed")


@pytest.mark.parametrize(
    ("revision", "status"),
    [(None, 400), ("2023-01-01", 400), ("2026-07-15", 200), ("2026-07-15.pre", 200)],
)
async def test_revision_header_is_required_and_must_be_known(api, revision, status):
    answer = await api.get("/api/metrics", headers={"revision": revision})
    assert answer.status == status
    if status == 400:
        assert answer.error["source"] == {"parameter": "revision"}


@pytest.mark.parametrize(
    ("authorization", "code"),
    [
        (None, "not_authenticated"),
        ("Bearer pk_abc", "not_authenticated"),
        ("Klaviyo-API-Key pk_unknown", "authentication_failed"),
    ],
)
async def test_private_endpoints_need_a_known_private_key(api, authorization, code):
    answer = await api.get("/api/metrics", headers={"Authorization": authorization})
    assert (answer.status, answer.error["code"]) == (401, code)


async def test_private_keys_only_reach_their_own_account(api, other_api):
    await api.post("/api/profiles", profile_body({"email": "a@example.com"}))
    assert len((await api.get("/api/profiles")).data) == 1
    assert (await other_api.get("/api/profiles")).data == []


@pytest.mark.parametrize(
    ("params", "headers", "parameter"),
    [
        ({"company_id": ""}, {}, "company_id"),
        ({"company_id": "Nope00"}, {}, "company_id"),
        ({}, {"Authorization": "Klaviyo-API-Key whatever"}, "Authorization"),
    ],
)
async def test_client_endpoints_need_a_known_public_key_and_no_private_key(api, params, headers, parameter):
    answer = await api.post("/client/profiles", profile_body({"email": "a@example.com"}), params, headers=headers)
    assert answer.status == 400
    assert answer.error["source"]["parameter"] == parameter


async def test_spec_violations_name_the_parameter(api):
    answer = await api.get("/api/events", {"page[size]": "5000", "sort": "name"})
    assert answer.status == 400
    parameters = sorted(error["source"]["parameter"] for error in answer.json["errors"])
    assert parameters == ["page[size]", "sort"]
    assert any("above the maximum 1000" in error["detail"] for error in answer.json["errors"])


async def test_spec_violations_point_into_the_body(api):
    answer = await api.post("/api/profiles", profile_body({"email": 5}))
    assert answer.status == 400
    assert answer.error["source"] == {"pointer": "/data/attributes/email"}


@pytest.mark.parametrize(
    "attributes",
    [{"email": 5}, {"email": "a@example.com", "properties": []}, {"email": "a@example.com", "location": "x"}],
)
async def test_malformed_attributes_are_400_naming_the_attribute(api, attributes):
    answer = await api.post("/api/profiles", profile_body(attributes))
    assert answer.status == 400
    assert answer.error["source"]["pointer"].startswith("/data/attributes/")


async def test_a_sandbox_built_without_naming_a_spec_validates_against_the_pinned_one(acme, client_for):
    unknown = await client_for(Sandbox([acme])).get("/api/profiles", {"bogus": "1"})
    assert unknown.status == 400
    assert unknown.error["source"]["parameter"] == "bogus"


async def test_unparseable_json_is_400(api):
    answer = await api.request("POST", "/api/profiles", raw_body=b"{nope")
    assert answer.status == 400


async def test_path_variables_arrive_decoded(api):
    answer = await api.get("/api/profiles/abc%2Fdef")
    assert answer.status == 404
    assert "'abc/def'" in answer.error["detail"]


def test_a_literal_segment_beats_a_variable_wherever_the_routes_are_listed():
    def reply(name):
        return lambda call: Reply(200, {"route": name})

    routes = [
        Route("GET", "/api/things/{id}", "get_thing", reply("variable")),
        Route("GET", "/api/things/export", "export_things", reply("literal")),
    ]
    for ordered in (routes, routes[::-1]):
        route, params = Router(ordered).match("GET", "/api/things/export")
        assert (route.operation_id, params) == ("export_things", {})
        route, params = Router(ordered).match("GET", "/api/things/x%20y")
        assert (route.operation_id, params) == ("get_thing", {"id": "x y"})


def test_an_account_can_be_added_later(sandbox):
    sandbox.add_account(Account(public_key="Late01", private_keys=("pk_late",)))
    assert sandbox.account("Late01").public_key == "Late01"
