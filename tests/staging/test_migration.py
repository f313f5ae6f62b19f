"""The migration plan: every mapping entry covered, and its SDK snippets checked against the
official SDKs (Python klaviyo-api 24.0.0 run against the sandbox; Node parsed and, when
the npm SDK is installed, its methods checked)."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import io
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from aiohttp import web
from seeded import placeholder_values

from proxy.config import Settings
from proxy.mapping.table import load_table
from proxy.openapi.spec import Spec, default_spec_path
from proxy.sandbox.app import build_app
from proxy.sandbox.seed import DEMO_PRIVATE_KEY, demo_sandbox
from proxy.staging.migration import build_plan
from proxy.staging.migration_render import render_html, render_json, render_markdown

ENTRIES = load_table(Settings().mappings_dir)
SPEC = Spec.load(default_spec_path())
PLANS = build_plan(ENTRIES, SPEC, Spec.load(default_spec_path(beta=True)))
BY_ROUTE = {plan.route: plan for plan in PLANS}
klaviyo_api = pytest.importorskip("klaviyo_api", reason="the test extra installs klaviyo-api==24.0.0")


def test_json_plan_covers_every_entry_with_both_snippets():
    document = json.loads(render_json(PLANS))
    assert document["sdks"] == {"python": "klaviyo-api==24.0.0", "node": "klaviyo-api@23.0.0"}
    assert [route["route"] for route in document["routes"]] == [entry.legacy for entry in ENTRIES]
    for route in document["routes"]:
        assert route["operations"] and all(op["operation_id"] and op["scopes"] and op["rate_tier"] != "—" for op in route["operations"]), route["route"]
        assert "KLAVIYO_API_KEY" in route["python"]["code"] and "KLAVIYO_API_KEY" in route["node"]["code"]
        assert route["fields"] and route["differences"], route["route"]
        for placeholder in route["placeholders"]:
            assert f'"YOUR_{placeholder}"' in route["python"]["code"] and f'"YOUR_{placeholder}"' in route["node"]["code"]


@pytest.mark.parametrize("entry", ENTRIES, ids=[entry.legacy for entry in ENTRIES])
def test_every_legacy_parameter_says_what_it_becomes(entry):
    plan = BY_ROUTE[entry.legacy]
    named = " ".join(plan.params)
    expected = set(entry.params) | set(re.findall(r"\{([a-z_]+)\}", entry.path))
    missing = [name for name in expected if name not in named]
    assert not missing, f"{entry.legacy}: migration.params lacks {missing}"
    if entry.auth == "api_key":
        assert "api_key" in plan.params


def test_python_sdk_has_every_method_the_snippets_call():
    client = klaviyo_api.KlaviyoAPI("pk_unused", max_retries=0)
    assert client._REVISION == "2026-07-15"
    for plan in PLANS:
        for call in plan.sdk_calls:
            group, method = call.split(".")
            assert callable(getattr(getattr(client, group), method)), f"{plan.route}: {call}"


def test_python_snippets_compile():
    for plan in PLANS:
        compile(plan.python, plan.route, "exec")


@pytest.fixture(scope="module")
def sandbox_host():
    """The sandbox on loopback in a thread of its own (the SDK is synchronous); each
    test swaps in a fresh demo sandbox so writes never leak between snippets."""
    holder: dict = {}
    ready = threading.Event()

    class Current:
        sandbox = demo_sandbox()

        async def handle(self, request):
            return await self.sandbox.handle(request)

    current = Current()

    def serve():
        loop = asyncio.new_event_loop()
        runner = web.AppRunner(build_app(current))
        loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", 0)
        loop.run_until_complete(site.start())
        holder.update(loop=loop, runner=runner, port=site._server.sockets[0].getsockname()[1])
        ready.set()
        loop.run_forever()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    ready.wait(10)
    yield current, f"http://127.0.0.1:{holder['port']}"
    asyncio.run_coroutine_threadsafe(holder["runner"].cleanup(), holder["loop"]).result(10)
    holder["loop"].call_soon_threadsafe(holder["loop"].stop)
    thread.join(10)


RUNNABLE = [plan for plan in PLANS if plan.sandbox is None]


@pytest.mark.parametrize("plan", RUNNABLE, ids=[plan.route for plan in RUNNABLE])
def test_python_snippet_runs_against_the_sandbox(plan, sandbox_host, monkeypatch):
    current, host = sandbox_host
    current.sandbox = demo_sandbox()
    values = placeholder_values(current.sandbox.accounts[0])
    code = plan.python
    for name in plan.placeholders:
        code = code.replace(f'"YOUR_{name}"', json.dumps(values[name]))
    monkeypatch.setenv("KLAVIYO_API_KEY", DEMO_PRIVATE_KEY)
    # The snippet runs unchanged; only the SDK's documented `test_host` points it here.
    monkeypatch.setattr(klaviyo_api, "KlaviyoAPI", functools.partial(klaviyo_api.KlaviyoAPI, test_host=host))
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(code, plan.route, "exec"), {"__name__": "__main__"})
    assert printed.getvalue().strip(), "a snippet shows what it got"


def test_snippets_the_sandbox_cannot_run_say_why():
    skipped = [plan for plan in PLANS if plan.sandbox is not None]
    assert len(skipped) <= 2 and all(len(plan.sandbox) > 20 for plan in skipped)


def _node_sdk_dir() -> Path | None:
    directory = os.environ.get("KLP_NODE_SDK_DIR")  # .ci/run installs klaviyo-api@23.0.0 there
    return Path(directory) if directory and (Path(directory) / "node_modules" / "klaviyo-api").is_dir() else None


@pytest.mark.skipif(shutil.which("node") is None, reason="no node on this machine")
def test_node_snippets_parse(tmp_path):
    for index, plan in enumerate(PLANS):
        script = tmp_path / f"snippet{index}.js"
        script.write_text(plan.node)
        result = subprocess.run(["node", "--check", str(script)], capture_output=True, text=True)
        assert result.returncode == 0, f"{plan.route}: {result.stderr}"


@pytest.mark.skipif(shutil.which("node") is None or _node_sdk_dir() is None, reason="needs node and KLP_NODE_SDK_DIR with klaviyo-api@23.0.0")
def test_node_sdk_has_every_method_the_snippets_call():
    wanted = {}
    for plan in PLANS:
        instances = dict(re.findall(r"const (\w+) = new (\w+Api)\(session\)", plan.node))
        for instance, method in re.findall(r"\b(\w+Api)\.(\w+)\(", plan.node):
            wanted.setdefault(instances[instance], set()).add(method)
    probe = "const sdk = require('klaviyo-api'); const wanted = " + json.dumps({k: sorted(v) for k, v in wanted.items()}) + ";\n"
    probe += "const missing = []; for (const [cls, methods] of Object.entries(wanted)) { for (const m of methods) {"
    probe += " if (!sdk[cls] || typeof sdk[cls].prototype[m] !== 'function') missing.push(cls + '.' + m); } }\n"
    probe += "console.log(JSON.stringify(missing));"
    result = subprocess.run(["node", "-e", probe], cwd=_node_sdk_dir(), capture_output=True, text=True, check=True)
    assert json.loads(result.stdout) == []


def test_markdown_is_a_checklist_with_code_blocks():
    markdown = render_markdown(PLANS)
    assert markdown.count("```python") == len(PLANS) == markdown.count("```javascript")
    assert "- [ ] [GET /api/v1/metrics](#route-get-api-v1-metrics)" in markdown
    assert '<a id="route-get-api-v1-metrics"></a>' in markdown


def test_html_renders_code_as_code_and_escapes():
    html = render_html(PLANS)
    assert '<pre><code class="language-python">' in html and "`" not in re.sub(r"<pre>.*?</pre>", "", html, flags=re.S)
    assert "<script" not in html


def test_command_line_plan_formats_and_used(tmp_path):
    run = functools.partial(subprocess.run, capture_output=True, text=True, check=True)
    command = [sys.executable, "-m", "proxy.cli", "migration-plan"]
    document = json.loads(run([*command, "--format", "json"]).stdout)
    assert len(document["routes"]) == len(ENTRIES)
    usage = tmp_path / "usage.json"
    usage.write_text(json.dumps({"routes": [
        {"route": "GET /api/v1/metrics", "key": "key:abc", "calls": 3, "statuses": {"2xx": 3}},
        {"route": "GET|POST /api/track", "key": "(none)", "calls": 5, "statuses": {"2xx": 4, "4xx": 1}},
    ]}))
    markdown = run([*command, "--used", "--usage", str(usage)]).stdout
    assert markdown.index("## GET|POST /api/track") < markdown.index("## GET /api/v1/metrics")
    assert "## GET /api/v1/campaigns" not in markdown and "5 calls (2xx 4, 4xx 1)" in markdown
    refused = subprocess.run([*command, "--used"], capture_output=True, text=True)
    assert refused.returncode == 2 and "--usage" in refused.stderr


async def test_migration_page_serves_all_formats_and_used_routes(proxy):
    await proxy.get("/api/v1/metrics", params={"api_key": DEMO_PRIVATE_KEY})
    page = await proxy.get("/__proxy/migration")
    assert page.status == 200 and page.content_type == "text/html"
    assert 'id="route-get-api-v1-metrics"' in await page.text()
    used = await (await proxy.get("/__proxy/migration", params={"format": "json", "used": "1"})).json()
    assert [route["route"] for route in used["routes"]] == ["GET /api/v1/metrics"]
    assert used["routes"][0]["usage"]["calls"] == 1 and DEMO_PRIVATE_KEY not in json.dumps(used)
    markdown = await proxy.get("/__proxy/migration", params={"format": "markdown"})
    assert markdown.content_type == "text/markdown"
    assert (await proxy.get("/__proxy/migration", params={"format": "pdf"})).status == 400


CUSTOM_PROPERTIES = {"plan", "loyalty_points", "favorite_category", "pet"}  # the seeded profiles' own


def _answer_fields(document) -> set[str]:
    """Top-level keys, and the keys of the records a list answer holds."""
    if isinstance(document, list):
        return {f"[].{key}" for item in document if isinstance(item, dict) for key in item}
    if not isinstance(document, dict):
        return set()
    names = set(document)
    for key in ("data", "records"):
        if isinstance(document.get(key), list):
            names |= {f"{key}[].{name}" for item in document[key] if isinstance(item, dict) for name in item}
    return names


def _covered(name: str, described: list[str]) -> bool:
    last = name.rsplit(".", 1)[-1]
    tokens = {token for text in described for token in re.split(r"[^A-Za-z0-9_$]+", text)}
    if last in CUSTOM_PROPERTIES:
        return any("custom properties" in text for text in described)
    return last in tokens


@pytest.mark.parametrize("entry", ENTRIES, ids=[entry.legacy for entry in ENTRIES])
async def test_every_field_of_the_legacy_answer_says_where_it_lives(entry, make_proxy, sandbox):
    from seeded import seeded_ids, with_seeded_ids

    proxy = await make_proxy(beta_template_send=True)
    ids = seeded_ids(sandbox.accounts[0])
    if entry.path.endswith("/cancel"):  # only a campaign with a send job can be cancelled
        ids["campaign_id"] = ids["scheduled_campaign_id"]
    example = entry.example
    path = with_seeded_ids(example.get("path") or entry.path, ids)
    for name, value in ids.items():
        path = path.replace("{" + name + "}", value)
    query = {name: with_seeded_ids(value, ids) for name, value in example.get("query", {}).items()}
    if entry.auth == "api_key":
        query["api_key"] = DEMO_PRIVATE_KEY
    body = with_seeded_ids(example.get("body", ""), ids)
    content_type = "application/json" if body.startswith("{") else "application/x-www-form-urlencoded"
    response = await proxy.request(entry.methods[0], path, params=query, data=body.encode(), headers={"Content-Type": content_type})
    assert response.status < 300, await response.text()
    text = await response.text()
    document = json.loads(text) if text.strip().startswith(("{", "[")) else None
    described = list(BY_ROUTE[entry.legacy].fields)
    missing = sorted(name for name in _answer_fields(document) if not _covered(name, described))
    assert not missing, f"{entry.legacy}: migration.fields lacks {missing}"


def test_plan_names_no_email_address_or_phone_number():
    """Snippets use named placeholders (EMAIL, SENDER_EMAIL), never a real-looking address."""
    pii = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+\.[A-Za-z]{2,}|\+1\d{10}\b")
    for text in (render_html(PLANS), render_markdown(PLANS), render_json(PLANS)):
        assert not pii.search(text), pii.search(text).group(0)


def test_an_entry_without_a_migration_block_is_named_not_a_traceback(tmp_path):
    mappings = tmp_path / "mappings"
    mappings.mkdir()
    (mappings / "metrics.yaml").write_text(
        "- chart: ['GET /api/v1/metrics → GET /api/metrics']\n  legacy: GET /api/v1/metrics\n  auth: api_key\n"
        "  calls: [GET /api/metrics]\n  respond: {envelope: page_list}\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "proxy.cli", "migration-plan", "--mappings-dir", str(mappings)],
        capture_output=True, text=True,
    )
    assert result.returncode == 2 and "GET /api/v1/metrics" in result.stderr and "no migration: block" in result.stderr
    assert "Traceback" not in result.stderr


# The Node SDK has no test_host; this preload points every *Api's basePath at the sandbox.
_NODE_PRELOAD = """
const sdk = require('klaviyo-api');
for (const [name, cls] of Object.entries(sdk)) {
  if (/Api$/.test(name) && cls && cls.prototype && Object.getOwnPropertyDescriptor(cls.prototype, 'basePath')) {
    Object.defineProperty(cls.prototype, 'basePath', { get() { return process.env.KLP_TEST_HOST; }, set() {}, configurable: true });
  }
}
"""
# Reads only: the Node SDK 23.0.0 sends bodies as `application/json`, which the sandbox
# (following the spec's `application/vnd.api+json`) refuses.
ENTRY_OF = {entry.legacy: entry for entry in ENTRIES}
NODE_READS = [
    plan for plan in RUNNABLE
    if all(SPEC.by_id(step["operation"]).method == "GET" for step in ENTRY_OF[plan.route].migration["steps"])
]


_NODE_FOOTER = """main().catch((error) => {
  console.error(error.response ? error.response.data : error);
  process.exitCode = 1;
});
"""


@pytest.mark.skipif(shutil.which("node") is None or _node_sdk_dir() is None, reason="needs node and KLP_NODE_SDK_DIR with klaviyo-api@23.0.0")
def test_node_read_snippets_run_against_the_sandbox(sandbox_host, tmp_path):
    """One node process runs every read snippet in turn (loading the SDK once)."""
    current, host = sandbox_host
    current.sandbox = demo_sandbox()
    values = placeholder_values(current.sandbox.accounts[0])
    files = []
    for index, plan in enumerate(NODE_READS):
        code = plan.node
        for name in plan.placeholders:
            code = code.replace(f'"YOUR_{name}"', json.dumps(values[name]))
        assert code.endswith(_NODE_FOOTER), plan.route
        script = tmp_path / f"snippet{index}.js"
        script.write_text(code.removesuffix(_NODE_FOOTER) + "module.exports = main;\n")
        files.append((plan.route, str(script)))
    runner = tmp_path / "run.js"
    runner.write_text(
        _NODE_PRELOAD
        + "const files = " + json.dumps(files) + ";\n"
        + "(async () => { for (const [route, file] of files) { console.log('== ' + route);"
        + " try { await require(file)(); } catch (error) { console.log('FAILED ' + route + ': '"
        + " + JSON.stringify(error.response ? error.response.data : String(error))); } } })();\n"
    )
    env = {**os.environ, "KLAVIYO_API_KEY": DEMO_PRIVATE_KEY, "KLP_TEST_HOST": host, "NODE_PATH": str(_node_sdk_dir() / "node_modules")}
    result = subprocess.run(["node", str(runner)], env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "FAILED" not in result.stdout, [line for line in result.stdout.splitlines() if line.startswith("FAILED")]
    outputs = result.stdout.split("== ")[1:]
    assert len(outputs) == len(NODE_READS) and all(len(out.strip().splitlines()) > 1 for out in outputs), result.stdout[-2000:]
