"""`check --scopes`: the private-key scopes of the mapped routes, read from the spec, and
the README's copy of them kept current."""

import re
from pathlib import Path

from proxy.cli import main
from proxy.config import Settings
from proxy.coverage import scopes_report
from proxy.mapping.table import load_table
from proxy.openapi.spec import pinned_spec

README = Path(__file__).resolve().parents[2] / "README.md"


def report() -> str:
    return scopes_report(load_table(Settings().mappings_dir), pinned_spec(), pinned_spec(beta=True))


def route_scopes(text: str) -> dict[str, str]:
    return {route: scopes for route, scopes in re.findall(r"^  (\S+ /\S+)\s{2,}(.+)$", text, re.MULTILINE)}


def test_scopes_come_from_the_operations_each_route_calls():
    routes = route_scopes(report())
    assert routes["GET /api/v1/metrics"] == "metrics:read"  # GET /api/metrics: x-klaviyo-scopes [metrics:read]
    assert (routes["GET /api/v2/lists"], routes["POST /api/v2/lists"]) == ("lists:read", "lists:write")
    # Track calls /client/events (public key, no scope) or, with a private key, /api/events.
    assert routes["GET|POST /api/track"] == "events:write"


def test_check_scopes_prints_the_report(capsys):
    assert main(["check", "--scopes"]) == 0
    assert capsys.readouterr().out.rstrip("\n") == report()


def test_the_readme_lists_the_current_scopes():
    block = re.search(r"<!-- scopes:start -->\n```\n(.*?)\n```\n<!-- scopes:end -->", README.read_text(), re.DOTALL)
    assert block and block.group(1) == report(), "README scopes are stale: run `klaviyo-legacy-proxy check --scopes`"
