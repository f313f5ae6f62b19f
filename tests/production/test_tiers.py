"""The per-operation rate tiers: derived from the spec, loaded without it, never stale."""

import shutil
from pathlib import Path

import pytest

from proxy.cli import main
from proxy.config import Settings
from proxy.coverage import check_report
from proxy.newapi.messages import UpstreamRequest
from proxy.openapi.spec import RateLimit
from proxy.upstream.tiers import TiersError, load_tiers, render_tiers, stale_tiers, tiers_path, write_tiers

MAPPINGS = Settings().mappings_dir


def test_the_committed_table_is_what_the_spec_derives(spec):
    assert stale_tiers(MAPPINGS, spec) == [], "regenerate with `klaviyo-legacy-proxy check --write-ratelimits`"


def test_every_spec_operation_has_its_tier(spec):
    table = load_tiers(tiers_path(MAPPINGS))
    assert table.revision == spec.revision
    for operation in spec.operations:
        assert table.limits[f"{operation.method} {operation.path}"] == operation.ratelimit


@pytest.mark.parametrize(
    ("method", "path", "operation", "limit"),
    [
        ("GET", "/api/metrics", "GET /api/metrics", RateLimit(10, 150, None)),
        ("GET", "/api/profiles/01HABC", "GET /api/profiles/{id}", RateLimit(75, 750, None)),
        ("POST", "/api/event-bulk-create-jobs", "POST /api/event-bulk-create-jobs", RateLimit(10, 150, None)),
        ("POST", "/api/lists", "POST /api/lists", RateLimit(10, 150, 150)),
        ("POST", "/client/events", "POST /client/events", RateLimit(350, 3500, None)),
    ],
)
def test_concrete_paths_find_their_operation(method, path, operation, limit):
    assert load_tiers(tiers_path(MAPPINGS)).match(method, path) == (operation, limit)


def test_a_literal_segment_beats_a_variable():
    table = load_tiers(tiers_path(MAPPINGS))
    assert table.match("GET", "/api/profile-bulk-import-jobs/01JOB")[0] == "GET /api/profile-bulk-import-jobs/{job_id}"
    assert table.match("GET", "/api/lists/Y6nRLr/profiles")[0] == "GET /api/lists/{id}/profiles"


def test_unknown_operations_are_named_without_their_path():
    table = load_tiers(tiers_path(MAPPINGS))
    assert table.match("GET", "/api/nothing/here") is None
    assert table.operation_of(UpstreamRequest("GET", "/api/nothing/here")) == "GET (not in 2026-07-15)"


def test_check_writes_and_then_flags_a_stale_table(tmp_path: Path, spec):
    assert stale_tiers(tmp_path, spec) == [
        f"ratelimits: {tiers_path(tmp_path)} is missing; run `klaviyo-legacy-proxy check --write-ratelimits`"
    ]
    path = write_tiers(tmp_path, spec)
    assert path.read_text() == render_tiers(spec)
    assert stale_tiers(tmp_path, spec) == []
    path.write_text(path.read_text().replace("GET /api/metrics: {burst: 10/s", "GET /api/metrics: {burst: 11/s"))
    assert "stale versus the spec of revision 2026-07-15" in stale_tiers(tmp_path, spec)[0]


def test_check_finds_the_committed_table_current(spec_path):
    assert "PROBLEM: ratelimits" not in check_report(MAPPINGS, spec_path=spec_path).text


def test_the_command_regenerates_the_table(tmp_path: Path, spec, capsys):
    mappings = tmp_path / "mappings"
    shutil.copytree(MAPPINGS, mappings)
    shutil.rmtree(mappings / "ratelimits")
    main(["check", "--mappings-dir", str(mappings), "--write-ratelimits"])
    assert f"ratelimits: wrote {tiers_path(mappings)}" in capsys.readouterr().out
    assert tiers_path(mappings).read_text() == render_tiers(spec)


def test_a_missing_or_broken_table_is_one_clear_line(tmp_path: Path):
    with pytest.raises(TiersError, match=r"cannot read .*--write-ratelimits"):
        load_tiers(tmp_path / "missing.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("revision: x\noperations:\n  GET /api/metrics: {burst: ten}\n")
    with pytest.raises(TiersError, match="malformed"):
        load_tiers(broken)
