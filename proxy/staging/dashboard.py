"""The migration dashboard at /__proxy/: one server-rendered page, no scripts."""

from __future__ import annotations

from html import escape
from typing import Any, Mapping

from proxy.staging.catalog import CatalogEntry

_STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:2rem;color:#1b1b1b}
h1{font-size:1.4rem}table{border-collapse:collapse;width:100%}
th,td{border-bottom:1px solid #ddd;padding:.45rem .6rem;text-align:left;vertical-align:top}
th{background:#f4f4f4}code{font-size:.92em}.num{text-align:right;white-space:nowrap}
.muted{color:#666}
"""


def render_dashboard(usage: list[dict[str, Any]], catalog: Mapping[str, CatalogEntry]) -> str:
    rows = "".join(_row(item, catalog.get(item["route"])) for item in usage)
    if not rows:
        rows = '<tr><td colspan="7" class="muted">No legacy calls yet. Point a legacy client here.</td></tr>'
    unused = sorted(set(catalog) - {item["route"] for item in usage})
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>Legacy API usage — klaviyo-legacy-proxy</title>
<style>{_STYLE}</style></head><body>
<h1>Legacy Klaviyo API usage</h1>
<p class="muted">Each legacy endpoint your integrations call through this proxy, what it becomes in the
current API, and what to change in the caller's code. Keys appear only as fingerprints.</p>
<table id="usage"><thead><tr><th>Legacy endpoint</th><th>Key</th><th class="num">Calls</th>
<th>Last seen (UTC)</th><th>Statuses</th><th class="num">p50 / p95 ms</th><th>Becomes · what to change</th></tr></thead>
<tbody>{rows}</tbody></table>
<h2>Mapped but not used</h2><p class="muted">{escape(", ".join(unused)) or "—"}</p>
</body></html>"""


def _row(item: dict[str, Any], entry: CatalogEntry | None) -> str:
    statuses = " ".join(f"{escape(k)}:{v}" for k, v in item["statuses"].items())
    latency = f"{_ms(item['p50_ms'])} / {_ms(item['p95_ms'])}"
    if entry is None:
        becomes = "<span class='muted'>not a mapped legacy route</span>"
    else:
        links = ", ".join(f'<a href="{escape(t.reference)}"><code>{escape(t.call)}</code></a>' for t in entry.targets)
        becomes = f"{links}<br>{escape(entry.advice)}"
    return (
        f"<tr><td><code>{escape(item['route'])}</code></td><td><code>{escape(item['key'])}</code></td>"
        f"<td class='num'>{item['calls']}</td><td>{escape(item['last_seen'])}</td><td>{statuses}</td>"
        f"<td class='num'>{latency}</td><td>{becomes}</td></tr>"
    )


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:g}"
