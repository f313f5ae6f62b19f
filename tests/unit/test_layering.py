"""The rooms of `proxy/` import only downward (README, "How a request flows"): a module may
import its own room and the rooms listed for it, nothing else. The proxy's runtime never
imports the sandbox."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PROXY = Path(__file__).resolve().parents[2] / "proxy"

# Shared by everything: plain settings, metrics, the pinned revision, path templates.
BASE = {"config", "metrics", "logs", "revision", "path_templates", "__version__"}
NEW_API = {"newapi"}  # messages, transport seam, upstream errors: the bottom both sides use
OPENAPI = NEW_API | {"openapi"}
MAPPING = {"mapping"}
LEGACY = MAPPING | {"legacy"}
SHAPES = LEGACY | NEW_API | {"shapes"}
UPSTREAM = OPENAPI | {"upstream"}
ENGINE = SHAPES | UPSTREAM | {"engine"}
HANDLERS = ENGINE | {"handlers"}
SPOOL = ENGINE | {"spool"}
WEB = HANDLERS | SPOOL | {"readiness", "web"}  # the HTTP edge: the middleware pipeline's own stages
WIRING = WEB | {"redis_backend", "staging", "state", "backends", "coverage"}

ALLOWED: dict[str, set[str]] = {
    "newapi": set(),
    "openapi": NEW_API,
    "mapping": set(),
    "legacy": MAPPING,
    "shapes": LEGACY | NEW_API,
    "upstream": OPENAPI,
    "engine": SHAPES | UPSTREAM,
    "handlers": ENGINE,
    "spool": ENGINE,
    "redis_backend": SPOOL | {"staging"},  # the usage inventory's Redis rows
    "staging": HANDLERS | WEB | {"state"},  # its optional stages plug into the pipeline; explain's own memory store
    # The state store's backends (SQLite, memory) behind `engine.state.KeyValue`, with the
    # budget and usage faces they implement.
    "state": UPSTREAM | ENGINE | {"staging"},
    "web": WEB,
    "sandbox": OPENAPI,  # an emulator of the new API: it knows nothing of the proxy
    "backends": SPOOL | {"redis_backend", "state", "staging"},
    "readiness": SPOOL,
    "coverage": HANDLERS,
    "app": WIRING,
    "heap": set(),  # the collector's tuning for a served process
    "cli": WIRING | {"app", "sandbox", "heap"},  # `serve --sandbox` and `sandbox` run the emulator
}


def room_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "proxy"


def imports() -> list[tuple[str, int, str]]:
    """(file, line, imported room) for every import of a proxy module, lazy ones included."""
    found = []
    for path in sorted(PROXY.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "proxy":
                targets = [f"{node.module}.{alias.name}" if node.module == "proxy" else node.module for alias in node.names]
            elif isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names if alias.name.split(".")[0] == "proxy"]
            else:
                continue
            found += [(str(path.relative_to(PROXY.parent)), node.lineno, room_of(target)) for target in targets]
    return found


def test_every_import_runs_down_the_layering_table():
    wrong = []
    for file, line, target in imports():
        source = room_of(".".join(Path(file).with_suffix("").parts))
        if target in (source, "proxy") or target in BASE:
            continue
        if source not in ALLOWED:
            wrong.append(f"{file}: room {source!r} is not in the layering table")
        elif target not in ALLOWED[source]:
            wrong.append(f"{file}:{line}: {source} may not import {target}")
    assert wrong == [], "\n".join(wrong)


def test_the_table_knows_every_room():
    rooms = {path.stem if path.is_file() else path.name for path in PROXY.iterdir() if path.suffix == ".py" or (path / "__init__.py").exists()}
    assert rooms - set(ALLOWED) - BASE - {"__init__", "__main__"} == set()


def test_the_proxy_runtime_never_loads_the_sandbox():
    code = "import sys, proxy.app, proxy.staging.explain; print(sorted(m for m in sys.modules if m.startswith('proxy.sandbox')))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == "[]"
