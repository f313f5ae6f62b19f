"""The migration plan as Markdown (a checklist for a ticket or PR), JSON (for tools) and
HTML (the /__proxy/migration page: server-rendered, no scripts)."""

from __future__ import annotations

import json
import re
from html import escape
from typing import Any

from proxy.revision import PINNED_REVISION
from proxy.staging.migration import PlannedOperation, RoutePlan
from proxy.staging.migration_snippets import NODE_SDK, PYTHON_SDK

_TITLE = "Migration plan: legacy Klaviyo API → current API"
_CODE_SPAN = re.compile(r"`([^`]+)`")


def render_json(plans: list[RoutePlan]) -> str:
    document = {
        "revision": PINNED_REVISION,
        "sdks": {"python": f"klaviyo-api=={PYTHON_SDK}", "node": f"klaviyo-api@{NODE_SDK}"},
        "routes": [_plan_json(plan) for plan in plans],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _plan_json(plan: RoutePlan) -> dict[str, Any]:
    return {
        "route": plan.route,
        "anchor": plan.anchor,
        "coverage": plan.coverage,
        "operations": [_operation_json(operation) for operation in plan.operations],
        "params": dict(plan.params),
        "fields": dict(plan.fields),
        "differences": list(plan.differences),
        "proxy_note": plan.note,
        "placeholders": dict(plan.placeholders),
        "sdk_calls": list(plan.sdk_calls),
        "python": {"sdk": f"klaviyo-api=={PYTHON_SDK}", "code": plan.python},
        "node": {"sdk": f"klaviyo-api@{NODE_SDK}", "code": plan.node},
        "runs_against_sandbox": plan.sandbox is None,
        **({"usage": dict(plan.usage)} if plan.usage else {}),
    }


def _operation_json(operation: PlannedOperation) -> dict[str, Any]:
    return {
        "call": operation.call,
        "operation_id": operation.operation_id,
        "scopes": list(operation.scopes),
        "rate_tier": operation.tier,
        "revision": operation.revision,
        "reference": operation.reference,
    }


def render_markdown(plans: list[RoutePlan]) -> str:
    lines = [
        f"# {_TITLE}",
        "",
        f"Target revision `{PINNED_REVISION}`; Python SDK `klaviyo-api=={PYTHON_SDK}`, Node SDK "
        f"`klaviyo-api@{NODE_SDK}`. Both read the private key from `KLAVIYO_API_KEY`.",
        "",
        "## Checklist",
        "",
    ]
    lines += [f"- [ ] [{plan.route}](#{plan.anchor}){_usage_note(plan)}" for plan in plans]
    for plan in plans:
        lines += ["", f'<a id="{plan.anchor}"></a>', "", f"## {plan.route}", ""]
        lines.append(f"Coverage through the proxy: **{plan.coverage}**{_usage_note(plan, ' ·')}.")
        lines += ["", "| New-API call | operationId | scopes | rate tier |", "| --- | --- | --- | --- |"]
        for operation in plan.operations:
            scopes = ", ".join(f"`{scope}`" for scope in operation.scopes) or "—"
            op_id = f"[`{operation.operation_id}`]({operation.reference})" if operation.operation_id else "—"
            lines.append(f"| `{operation.call}` | {op_id} | {scopes} | {operation.tier} |")
        lines += ["", "| Legacy parameter | Becomes |", "| --- | --- |"]
        lines += [f"| `{_cell(name)}` | {_cell(text)} |" for name, text in plan.params.items()] or ["| — | no parameters |"]
        lines += ["", "| Legacy answer field | In the JSON:API answer |", "| --- | --- |"]
        lines += [f"| `{_cell(name)}` | {_cell(text)} |" for name, text in plan.fields.items()]
        lines += ["", "Behaviour to handle:", ""]
        lines += [f"- [ ] {difference}" for difference in plan.differences]
        if plan.note:
            lines += ["", f"What the proxy does meanwhile: {plan.note}"]
        lines += ["", f"Python (`klaviyo-api=={PYTHON_SDK}`):", "", "```python", plan.python.rstrip(), "```"]
        lines += ["", f"Node (`klaviyo-api@{NODE_SDK}`):", "", "```javascript", plan.node.rstrip(), "```"]
    return "\n".join(lines) + "\n"


def _usage_note(plan: RoutePlan, separator: str = " —") -> str:
    if not plan.usage:
        return ""
    calls = plan.usage["calls"]
    statuses = ", ".join(f"{status} {count}" for status, count in sorted(plan.usage["statuses"].items()))
    return f"{separator} {calls} call{'' if calls == 1 else 's'} ({statuses})"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


_STYLE = """
body{font:14px/1.5 system-ui,sans-serif;margin:2rem auto;max-width:72rem;color:#1b1b1b;padding:0 1rem}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2.5rem;border-top:1px solid #ddd;padding-top:1rem}
table{border-collapse:collapse;width:100%;margin:.6rem 0}th,td{border-bottom:1px solid #e3e3e3;padding:.35rem .5rem;text-align:left;vertical-align:top}
th{background:#f4f4f4}code{font:12.5px/1.4 ui-monospace,Menlo,Consolas,monospace;background:#f3f3f3;padding:0 .2em;border-radius:3px}
pre{background:#f7f7f9;border:1px solid #e3e3e3;border-radius:6px;padding:.8rem;overflow:auto}pre code{background:none;padding:0}
.muted{color:#666}nav ol{columns:2}
"""


def render_html(plans: list[RoutePlan], title: str = _TITLE) -> str:
    toc = "".join(f'<li><a href="#{plan.anchor}"><code>{escape(plan.route)}</code></a>{escape(_usage_note(plan))}</li>' for plan in plans)
    sections = "".join(_html_section(plan) for plan in plans)
    empty = "" if plans else '<p class="muted">No legacy route has been called through this proxy yet.</p>'
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>{escape(title)} — klaviyo-legacy-proxy</title>
<style>{_STYLE}</style></head><body>
<h1>{escape(title)}</h1>
<p class="muted">Target revision <code>{PINNED_REVISION}</code>. Snippets use the official SDKs:
Python <code>klaviyo-api=={PYTHON_SDK}</code>, Node <code>klaviyo-api@{NODE_SDK}</code>, with the key in
<code>KLAVIYO_API_KEY</code>. Also as <a href="?format=markdown">Markdown</a> and <a href="?format=json">JSON</a>;
<a href="/__proxy/">usage dashboard</a>.</p>
{empty}<nav><ol>{toc}</ol></nav>{sections}
</body></html>"""


def _html_section(plan: RoutePlan) -> str:
    operations = "".join(
        f"<tr><td><code>{escape(op.call)}</code></td><td>"
        + (f'<a href="{escape(op.reference)}"><code>{escape(op.operation_id)}</code></a>' if op.operation_id else "—")
        + f"</td><td>{' '.join(f'<code>{escape(s)}</code>' for s in op.scopes) or '—'}</td><td>{escape(op.tier)}</td></tr>"
        for op in plan.operations
    )
    params = "".join(f"<tr><td><code>{escape(k)}</code></td><td>{_inline(v)}</td></tr>" for k, v in plan.params.items())
    fields = "".join(f"<tr><td><code>{escape(k)}</code></td><td>{_inline(v)}</td></tr>" for k, v in plan.fields.items())
    differences = "".join(f"<li>{_inline(text)}</li>" for text in plan.differences)
    note = f'<p class="muted">What the proxy does meanwhile: {_inline(plan.note)}</p>' if plan.note else ""
    return f"""
<section id="{plan.anchor}"><h2><code>{escape(plan.route)}</code></h2>
<p>Coverage through the proxy: <strong>{escape(plan.coverage)}</strong>{escape(_usage_note(plan, ' ·'))}.</p>
<table><thead><tr><th>New-API call</th><th>operationId</th><th>Scopes</th><th>Rate tier</th></tr></thead><tbody>{operations}</tbody></table>
<table><thead><tr><th>Legacy parameter</th><th>Becomes</th></tr></thead><tbody>{params or '<tr><td colspan="2" class="muted">no parameters</td></tr>'}</tbody></table>
<table><thead><tr><th>Legacy answer field</th><th>In the JSON:API answer</th></tr></thead><tbody>{fields}</tbody></table>
<h3>Behaviour to handle</h3><ul>{differences}</ul>{note}
<h3>Python <small class="muted">klaviyo-api {PYTHON_SDK}</small></h3><pre><code class="language-python">{escape(plan.python)}</code></pre>
<h3>Node <small class="muted">klaviyo-api {NODE_SDK}</small></h3><pre><code class="language-javascript">{escape(plan.node)}</code></pre>
</section>"""


def _inline(text: str) -> str:
    """Prose with `code spans` as <code>, everything escaped."""
    return _CODE_SPAN.sub(lambda match: f"<code>{match.group(1)}</code>", escape(text, quote=False))


RENDERERS = {"markdown": render_markdown, "json": render_json, "html": render_html}
