"""`check`: is the mapping table valid, which chart rows does it cover, do its calls exist?"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from proxy.engine.dispatch import Runner, binding_problems
from proxy.handlers.registry import HANDLERS
from proxy.mapping.chart import ChartRow, load_chart
from proxy.mapping.table import Entry, MappingError, load_table
from proxy.openapi.spec import Spec, default_spec_path, pinned_spec
from proxy.revision import BETA_REVISION
from proxy.upstream.tiers import stale_tiers


@dataclass(frozen=True, slots=True)
class Report:
    ok: bool
    text: str


def check_report(
    mappings_dir: Path,
    *,
    spec_path: Path | None = None,
    chart_path: Path | None = None,
    handlers: Mapping[str, Runner] = HANDLERS,
) -> Report:
    try:
        entries = load_table(mappings_dir)
    except MappingError as exc:
        return Report(False, f"mappings: INVALID — {exc}")
    unbound = [problem for entry in entries for problem in binding_problems(entry, handlers)]
    lines = [f"mappings: {len(entries)} entries in {mappings_dir} — {'INVALID' if unbound else 'valid'}"]
    named = sum(1 for entry in entries if entry.handler)
    lines.append(f"handlers: {named} entries name one, every one checked; {len(entries) - named} run on the engine's own steps")
    problems: list[str] = list(unbound)

    spec_path = spec_path or default_spec_path()
    problems += _missing_operations(entries, spec_path)
    lines.append(f"spec: {spec_path.name} — every named new-API operation checked")
    problems += stale_tiers(mappings_dir, Spec.load(spec_path))

    chart_lines, chart_problems = _chart_coverage(entries, load_chart(chart_path))
    lines += chart_lines
    problems += chart_problems

    lines += [f"PROBLEM: {problem}" for problem in problems]
    return Report(not problems, "\n".join(lines))


_STATUS = {"exact": "mapped", "approximated": "approximated", "no_equivalent": "no equivalent"}


def coverage_markdown(entries: list[Entry], rows: list[ChartRow]) -> str:
    """The comparison chart as a table with each row's status (the README's coverage table)."""
    mapped = {row: entry for entry in entries for row in entry.chart}
    lines = ["| Legacy endpoint | New API | Status |", "|---|---|---|"]
    for row in rows:
        entry = mapped.get(row.key)
        lines.append(f"| `{row.legacy}` | `{row.new}` | {_STATUS[entry.coverage] if entry else 'not yet'} |")
    for entry in entries:
        if entry.beyond_chart:
            calls = ", ".join(f"`{call}`" for call in entry.calls)
            lines.append(f"| `{entry.legacy}` | {calls} | {_STATUS[entry.coverage]} (beyond the chart) |")
    return "\n".join(lines)


def scopes_report(entries: list[Entry], stable: Spec, beta: Spec) -> str:
    """The private-key scopes each mapped route needs, from the spec's `x-klaviyo-scopes`.

    `/client/` calls take the public key and need no scope; a route that may call either
    (track, identify, the sign-up form) needs its scopes only when the proxy sends a private key."""
    by_route: list[tuple[str, list[str]]] = []
    for entry in entries:
        spec = beta if entry.revision == BETA_REVISION else stable
        scopes: list[str] = []
        for call in entry.calls:
            operation = spec.operation(call.method, call.path)
            if operation is not None and operation.needs_api_key:
                scopes += [scope for scope in operation.scopes if scope not in scopes]
        by_route.append((entry.legacy, sorted(scopes)))
    every = sorted({scope for _, scopes in by_route for scope in scopes})
    width = max(len(route) for route, _ in by_route)
    lines = [f"scopes: a private key serving every mapped route needs {len(every)}:", f"  {', '.join(every)}", "by route:"]
    lines += [f"  {route:<{width}}  {', '.join(scopes) or '(public key only: no scope)'}" for route, scopes in by_route]
    return "\n".join(lines)


def _missing_operations(entries: list[Entry], spec_path: Path) -> list[str]:
    stable = Spec.load(spec_path)
    beta = Spec.load(default_spec_path(beta=True))
    problems = []
    for entry in entries:
        # A beta entry's beta operations go out under the beta revision; a GA read it also
        # needs (its handler sends that one under the pinned revision) may be in either.
        specs = [beta, stable] if entry.revision == BETA_REVISION else [stable]
        for call in entry.calls:
            if all(spec.operation(call.method, call.path) is None for spec in specs):
                problems.append(f"{entry.source}: calls: {call} is not an operation of revision {entry.revision}")
    return problems


def _chart_coverage(entries: list[Entry], rows: list[ChartRow]) -> tuple[list[str], list[str]]:
    mapped = {row: entry for entry in entries for row in entry.chart}
    known = {row.key for row in rows}
    problems = [
        f"{entry.source}: chart: no chart row {row!r}" for entry in entries for row in entry.chart if row not in known
    ]
    covered = sum(1 for row in rows if row.key in mapped)
    lines = [f"chart: {covered}/{len(rows)} rows mapped"]
    for row in rows:
        entry = mapped.get(row.key)
        lines.append(f"  [{'mapped' if entry else '  --  '}] {row.key}")
    extra = [entry for entry in entries if entry.beyond_chart]
    if extra:
        lines.append("beyond the chart:")
        lines += [f"  [mapped] {entry.legacy} — {entry.beyond_chart}" for entry in extra]
    return lines, problems
