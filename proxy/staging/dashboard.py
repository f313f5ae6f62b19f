"""The migration dashboard at /__proxy/: one server-rendered page, no scripts.

Summarised per legacy route (calls summed over keys), filtered by one key fingerprint
(`?key=`), paginated (`?page=`, PAGE_ROWS routes a page), so its size does not grow with
the number of keys; each route links to its section of the migration plan.
"""

from __future__ import annotations

import re
from html import escape
from collections.abc import Callable
from typing import Any, Mapping
from urllib.parse import urlencode

from proxy.staging.catalog import CatalogEntry
from proxy.staging.migration import anchor

PAGE_ROWS = 50
KEY_CHOICES = 20  # the busiest fingerprints offered in the filter
_STATUS_COLOURS = {"2xx": "#2e7d32", "3xx": "#0277bd", "4xx": "#ef6c00", "5xx": "#c62828"}
_CODE_SPAN = re.compile(r"`([^`]+)`")

_STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:2rem;color:#1b1b1b}
h1{font-size:1.4rem}table{border-collapse:collapse;width:100%}
th,td{border-bottom:1px solid #ddd;padding:.45rem .6rem;text-align:left;vertical-align:top}
th{background:#f4f4f4}code{font:12.5px ui-monospace,Menlo,Consolas,monospace;background:#f3f3f3;padding:0 .2em;border-radius:3px}
.num{text-align:right;white-space:nowrap}.muted{color:#666}form{margin:1rem 0}
"""


def render_dashboard(
    usage: list[dict[str, Any]],
    catalog: Mapping[str, CatalogEntry],
    key: str | None = None,
    page: int = 0,
    activity: Callable[[str], list[int]] = lambda route: [],
) -> str:
    keys = _busiest_keys(usage)
    if key:
        usage = [item for item in usage if item["key"] == key]
    routes = _per_route(usage)
    pages = max(1, -(-len(routes) // PAGE_ROWS))
    page = min(max(page, 0), pages - 1)
    shown = routes[page * PAGE_ROWS : (page + 1) * PAGE_ROWS]
    rows = "".join(_row(route, catalog.get(route["route"]), activity(route["route"])) for route in shown)
    if not rows:
        rows = '<tr><td colspan="7" class="muted">No legacy calls yet. Point a legacy client here.</td></tr>'
    unused = sorted(set(catalog) - {route["route"] for route in routes})
    options = "".join(
        f'<option value="{escape(fp)}"{" selected" if fp == key else ""}>{escape(fp)}</option>' for fp in keys
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>Legacy API usage — klaviyo-legacy-proxy</title>
<style>{_STYLE}</style></head><body>
<h1>Legacy Klaviyo API usage</h1>
<p class="muted">Each legacy endpoint your integrations call through this proxy and what it becomes in the
current API. Keys appear only as fingerprints. The <a href="/__proxy/migration?used=1">migration plan for these
routes</a> has the code that replaces each.</p>
<form method="get" action="/__proxy/"><label>Key fingerprint <select name="key"><option value="">all keys</option>{options}</select></label>
<button type="submit">Filter</button></form>
<table id="usage"><thead><tr><th>Legacy endpoint</th><th class="num">Calls</th><th class="num">Keys</th>
<th>Last seen (UTC)</th><th title="calls per half hour over the last 24 hours, as seen by the process that drew this page">Last 24 h</th><th>Status mix</th><th>Becomes · what to change</th></tr></thead>
<tbody>{rows}</tbody></table>
{_pager(page, pages, key)}
<h2>Mapped but not used</h2><p class="muted">{", ".join(f"<code>{escape(route)}</code>" for route in unused) or "—"}</p>
</body></html>"""


def _busiest_keys(usage: list[dict[str, Any]]) -> list[str]:
    calls: dict[str, int] = {}
    for item in usage:
        calls[item["key"]] = calls.get(item["key"], 0) + item["calls"]
    return [key for key, _ in sorted(calls.items(), key=lambda pair: (-pair[1], pair[0]))[:KEY_CHOICES]]


def _per_route(usage: list[dict[str, Any]]) -> list[dict[str, Any]]:
    routes: dict[str, dict[str, Any]] = {}
    for item in usage:
        route = routes.setdefault(item["route"], {"route": item["route"], "calls": 0, "keys": 0, "last_seen": "", "statuses": {}})
        route["calls"] += item["calls"]
        route["keys"] += 1
        route["last_seen"] = max(route["last_seen"], item["last_seen"])
        for status, count in item["statuses"].items():
            route["statuses"][status] = route["statuses"].get(status, 0) + count
    return sorted(routes.values(), key=lambda route: (-route["calls"], route["route"]))


def _row(route: dict[str, Any], entry: CatalogEntry | None, series: list[int]) -> str:
    if entry is None:
        becomes = "<span class='muted'>not a mapped legacy route</span>"
    else:
        links = ", ".join(f'<a href="{escape(t.reference)}"><code>{escape(t.call)}</code></a>' for t in entry.targets)
        plan = f'<a href="/__proxy/migration#{anchor(entry.legacy)}">migration plan</a>'
        becomes = f"{links}<br>{_inline(entry.advice)} · {plan}"
    return (
        f"<tr><td><code>{escape(route['route'])}</code></td><td class='num'>{route['calls']}</td>"
        f"<td class='num'>{route['keys']}</td><td>{escape(route['last_seen'])}</td><td>{_sparkline(series)}</td>"
        f"<td>{_status_mix(route['statuses'])}</td><td>{becomes}</td></tr>"
    )


def _status_mix(statuses: dict[str, int]) -> str:
    """A stacked bar (inline SVG) of the status classes, with the counts as text."""
    total = sum(statuses.values()) or 1
    x, bars = 0.0, []
    for status, count in sorted(statuses.items()):
        width = 120 * count / total
        colour = _STATUS_COLOURS.get(status, "#757575")
        bars.append(f'<rect x="{x:.1f}" y="0" width="{width:.1f}" height="10" fill="{colour}"><title>{escape(status)}: {count}</title></rect>')
        x += width
    label = " ".join(f"{escape(status)}:{count}" for status, count in sorted(statuses.items()))
    return f'<svg class="mix" width="120" height="10" role="img" aria-label="{label}">{"".join(bars)}</svg><br><span class="muted">{label}</span>'


def _sparkline(series: list[int]) -> str:
    """Calls over time as an inline SVG polyline; no scripts, no external libraries."""
    if not series:
        return "<span class='muted'>—</span>"
    width, height, peak = 120, 20, max(series) or 1
    step = width / max(len(series) - 1, 1)
    points = " ".join(f"{index * step:.1f},{height - 1 - (height - 2) * count / peak:.1f}" for index, count in enumerate(series))
    return (
        f'<svg class="spark" width="{width}" height="{height}" role="img" aria-label="calls per half hour, peak {max(series)}">'
        f'<polyline points="{points}" fill="none" stroke="#1565c0" stroke-width="1.5"/></svg>'
    )


def _pager(page: int, pages: int, key: str | None) -> str:
    if pages == 1:
        return ""

    def link(number: int, text: str) -> str:
        query = urlencode({**({"key": key} if key else {}), "page": number})
        return f'<a href="/__proxy/?{query}">{text}</a>'

    previous = link(page - 1, "← previous") if page > 0 else ""
    following = link(page + 1, "next →") if page + 1 < pages else ""
    return f'<p class="pager">{previous} page {page + 1} of {pages} {following}</p>'


def _inline(text: str) -> str:
    return _CODE_SPAN.sub(lambda match: f"<code>{match.group(1)}</code>", escape(text, quote=False))
