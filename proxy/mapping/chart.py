"""Rows of Klaviyo's v1/v2 → new-API comparison chart.

The chart is text copied from a web page: an endpoint is a method followed by a path
that may wrap over lines (`/api/v1/metric/{metric_id}/` + `timeline`); its bullets
follow. Each chart row is a group of legacy endpoints, then a group of new ones, so a
row expands to every (legacy, new) pair.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

_ENDPOINT = re.compile(r"(GET|POST|PUT|PATCH|DELETE)\s*(\S*)")
_TABLE_START = "v1/v2 endpoint"
_TABLE_END = "New endpoints without corresponding"
_BULLET = "•"


@dataclass(frozen=True, slots=True)
class ChartRow:
    legacy: str  # "GET /api/v1/metrics"
    new: str  # "GET /api/metrics"

    @property
    def key(self) -> str:
        return f"{self.legacy} → {self.new}"


PACKAGED_ROWS = Path(__file__).resolve().parent / "chart_rows.yaml"


def load_chart(path: Path | None = None) -> list[ChartRow]:
    """The chart's rows: from a chart text when a path is given, else the rows shipped with the package."""
    if path is not None:
        return parse_chart(path.read_text(encoding="utf-8"))
    return [ChartRow(row["legacy"], row["new"]) for row in yaml.safe_load(PACKAGED_ROWS.read_text(encoding="utf-8"))]


def parse_chart(text: str) -> list[ChartRow]:
    groups = _endpoint_groups(_table_lines(text))
    rows: dict[str, ChartRow] = {}
    for legacy_group, new_group in zip(groups[0::2], groups[1::2]):
        for legacy in legacy_group:
            for new in new_group:
                row = ChartRow(legacy, new)
                rows.setdefault(row.key, row)
    return list(rows.values())


def _table_lines(text: str) -> list[str]:
    lines = [line.strip() for line in text.splitlines()]
    start = next(i for i, line in enumerate(lines) if line.startswith(_TABLE_START))
    end = next(i for i, line in enumerate(lines) if line.startswith(_TABLE_END))
    return [line for line in lines[start + 1 : end] if line]


def _endpoint_groups(lines: list[str]) -> list[list[str]]:
    """Endpoints that follow each other without bullets in between form one group."""
    groups: list[list[str]] = []
    current: list[list[str]] = []  # [method, path] pairs still collecting wrapped text
    for line in lines:
        if line.startswith(_BULLET):
            if current:
                groups.append([_endpoint(method, path) for method, path in current])
                current = []
            continue
        matches = list(_ENDPOINT.finditer(line))
        if matches and matches[0].start() == 0:
            current.extend([m.group(1), m.group(2)] for m in matches)
        elif current:
            current[-1][1] += line  # a wrapped path
    return groups


def _endpoint(method: str, path: str) -> str:
    path = path if path.startswith("/") else "/" + path
    if len(path) > 1 and path.endswith("/"):
        path = path[:-1]
    return f"{method} {path}"
