from __future__ import annotations

import json
from pathlib import Path

import pytest

import proxy

from proxy.openapi import PageSize, RateLimit, Spec, default_spec_path, parse_ratelimit


def _write_spec(directory: Path, paths: dict, version: str | None = "2099-01-01") -> Path:
    info = {"title": "t"} | ({"version": version} if version else {})
    document = {"openapi": "3.0.2", "info": info, "paths": paths}
    path = directory / "stable-2099-01-01.json"
    path.write_text(json.dumps(document))
    return path


def _op(operation_id: str) -> dict:
    return {
        "operationId": operation_id,
        "parameters": [],
        "responses": {"204": {"description": ""}},
    }


def test_the_pinned_spec_ships_inside_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KLAVIYO_OPENAPI_SPEC", raising=False)
    monkeypatch.delenv("KLAVIYO_OPENAPI_BETA_SPEC", raising=False)
    path = default_spec_path()
    assert path.is_file() and path.name == "stable-2026-07-15.json"
    assert path.is_relative_to(Path(proxy.__file__).parent)
    assert (path.parent / "LICENSE").is_file()
    beta = default_spec_path(beta=True)
    assert beta.is_file() and beta.name == "beta-2026-07-15.pre.json"
    assert Spec.load(path).revision == "2026-07-15"


def test_default_spec_path_honours_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("KLAVIYO_OPENAPI_SPEC", str(tmp_path / "s.json"))
    monkeypatch.setenv("KLAVIYO_OPENAPI_BETA_SPEC", str(tmp_path / "b.json"))
    assert default_spec_path() == tmp_path / "s.json"
    assert default_spec_path(beta=True) == tmp_path / "b.json"


def test_load_is_cached_by_resolved_path(spec: Spec) -> None:
    assert Spec.load(str(spec.source)) is spec
    assert Spec.load(spec.source.parent / ".." / spec.source.parent.name / spec.source.name) is spec


def test_revisions(spec: Spec, beta_spec: Spec, tmp_path: Path) -> None:
    assert spec.revision == "2026-07-15"
    assert beta_spec.revision == "2026-07-15.pre"
    assert Spec.load(_write_spec(tmp_path, {}, version=None)).revision == "2099-01-01"


def test_operations_and_by_id(spec: Spec, beta_spec: Spec) -> None:
    assert len(list(spec.operations)) == 345
    assert spec.by_id("get_profiles").path == "/api/profiles"
    assert spec.by_id("update_profile").method == "PATCH"
    assert all(op.pre_release for op in beta_spec.operations)
    assert not any(op.pre_release for op in spec.operations)
    with pytest.raises(KeyError, match="no_such_operation"):
        spec.by_id("no_such_operation")


@pytest.mark.parametrize(
    ("method", "path", "operation_id"),
    [
        ("GET", "/api/profiles", "get_profiles"),
        ("get", "/api/profiles/01H%2Fx", "get_profile"),
        ("PATCH", "/api/profiles/01GDDKASAP8TKDDA2GRZDSVP4H", "update_profile"),
        ("POST", "/api/profile-import", "create_or_update_profile"),
        ("GET", "/api/profiles/abc/lists", "get_lists_for_profile"),
        ("POST", "/api/lists/Y6nRLr/relationships/profiles", "add_profiles_to_list"),
        ("DELETE", "/api/lists/Y6nRLr/relationships/profiles", "remove_profiles_from_list"),
        ("POST", "/client/events", "create_client_event"),
    ],
)
def test_operation_matches_concrete_paths(
    spec: Spec, method: str, path: str, operation_id: str
) -> None:
    operation = spec.operation(method, path)
    assert operation is not None and operation.operation_id == operation_id


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/profiles/"),  # empty segment is no id
        ("GET", "/api/profiles/a/b"),
        ("PUT", "/api/profiles/abc"),
        ("GET", "/api/nothing"),
        ("POST", "/api/profile-import/x"),
    ],
)
def test_operation_rejects_unknown_paths(spec: Spec, method: str, path: str) -> None:
    assert spec.operation(method, path) is None


def test_literal_segments_win_over_variables(tmp_path: Path) -> None:
    # The pinned spec has no overlapping templates, so the rule is shown on a small document.
    path = _write_spec(
        tmp_path,
        {
            "/api/profiles/{id}": {"get": _op("by_id")},
            "/api/profiles/me": {"get": _op("me")},
            "/api/{kind}/me": {"get": _op("kind_me")},
            "/api/{kind}/{id}/x": {"get": _op("any_x")},
            "/api/lists/{id}/x": {"get": _op("list_x")},
        },
    )
    spec = Spec.load(path)
    assert spec.operation("GET", "/api/profiles/me").operation_id == "me"
    assert spec.operation("GET", "/api/profiles/abc").operation_id == "by_id"
    assert spec.operation("GET", "/api/lists/me").operation_id == "kind_me"
    assert spec.operation("GET", "/api/lists/1/x").operation_id == "list_x"
    assert spec.operation("GET", "/api/tags/1/x").operation_id == "any_x"


def test_path_params_are_decoded(spec: Spec) -> None:
    assert spec.by_id("get_profile").path_params("/api/profiles/01H%2Fx") == {"id": "01H/x"}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"burst": "10/s", "steady": "150/m"}, RateLimit(10, 150, None)),
        ({"burst": "1/s", "steady": "2/m", "daily": "225/d"}, RateLimit(1, 2, 225)),
    ],
)
def test_parse_ratelimit(raw: dict, expected: RateLimit) -> None:
    assert parse_ratelimit(raw) == expected


@pytest.mark.parametrize(
    "raw", [{"burst": "10/m", "steady": "150/m"}, {"burst": "x/s", "steady": "1/m"}]
)
def test_parse_ratelimit_rejects_other_units(raw: dict) -> None:
    with pytest.raises(ValueError, match="rate limit"):
        parse_ratelimit(raw)


def test_operation_fields_from_the_spec(spec: Spec) -> None:
    events = spec.by_id("get_events")
    assert events.ratelimit == RateLimit(350, 3500, None)
    assert events.page_size == PageSize(1, 1000, 200)
    assert set(events.filters) == {
        "metric_id",
        "profile_id",
        "profile",
        "metric",
        "datetime",
        "timestamp",
    }
    assert events.request_schema is None and events.responses["200"] is not None

    assert spec.by_id("create_list").ratelimit == RateLimit(10, 150, 150)
    assert spec.by_id("get_lists").page_size == (1, 10, 10)
    assert spec.by_id("get_metrics").page_size is None

    create_event = spec.by_id("create_event")
    assert create_event.filters == {}
    assert create_event.needs_api_key
    assert create_event.request_body_required
    assert create_event.request_content_types == ("application/vnd.api+json",)
    assert create_event.request_schema["properties"]["data"]  # the $ref target, not a $ref
    assert create_event.responses["202"] is None
    assert set(create_event.responses) == {"202", "4XX", "5XX"}

    assert not spec.by_id("create_client_event").needs_api_key
    assert spec.by_id("create_client_event").parameter("query", "company_id")["required"]


def test_resolve_follows_references(spec: Spec) -> None:
    data = spec.by_id("create_event").request_schema["properties"]["data"]
    assert "$ref" in data
    event_type = spec.resolve(data)["properties"]["type"]
    assert spec.resolve(event_type)["enum"] == ["event"]
