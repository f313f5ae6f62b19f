"""The router tries only the templates with as many segments as the path: it must answer
exactly as a scan of the whole table in order would (match, 405 with Allow, or 404)."""

from __future__ import annotations

import re
from urllib.parse import unquote

import pytest

from proxy.config import Settings
from proxy.mapping.routes import MethodNotAllowed, RouteNotFound, Router, _compile
from proxy.mapping.table import load_table

ENTRIES = load_table(Settings().mappings_dir)
ROUTER = Router(ENTRIES)


def whole_table(method: str, raw_path: str) -> tuple:
    allowed: list[str] = []
    for entry in ENTRIES:
        found = _compile(entry.path).fullmatch(raw_path)
        if not found:
            continue
        if method not in entry.methods:
            allowed.extend(entry.methods)
            continue
        return "match", entry.source, {name: unquote(value) for name, value in found.groupdict().items()}
    return ("405", tuple(allowed)) if allowed else ("404",)


def routed(method: str, raw_path: str) -> tuple:
    try:
        match = ROUTER.match(method, raw_path)
    except MethodNotAllowed as refused:
        return "405", refused.allowed
    except RouteNotFound:
        return ("404",)
    return "match", match.entry.source, dict(match.path_params)


def paths() -> list[str]:
    found = {"/", "", "/api", "/api/", "//api/track", "/api/track//"}
    for entry in ENTRIES:
        path = re.sub(r"\{[a-z_]+\}", "AbC12", entry.path)
        found |= {path, path + "/", path + "//", path.replace("AbC12", "a%2Fb"), "/" + path, path + "/x", path.upper()}
    return sorted(found)


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "DELETE", "PATCH"])
def test_grouped_routes_answer_as_the_whole_table(method):
    for path in paths():
        assert routed(method, path) == whole_table(method, path), path
