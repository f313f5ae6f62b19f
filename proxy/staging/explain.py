"""Explain a legacy call: the new-API calls the proxy would make, sending nothing."""

from __future__ import annotations

import shlex
import textwrap
import time
from dataclasses import dataclass, replace
from typing import Any, Mapping
from urllib.parse import parse_qsl, unquote, urlsplit

import orjson

from proxy.config import Settings
from proxy.engine.delivery import SendNow
from proxy.engine.dispatch import Engine
from proxy.handlers.registry import HANDLERS
from proxy.legacy.errors import LegacyError
from proxy.legacy.request import parse_request
from proxy.mapping.table import Entry
from proxy.newapi.messages import UpstreamRequest
from proxy.openapi.spec import Spec, pinned_spec
from proxy.staging.dryrun import PLACEHOLDER, DryRunTransport
from proxy.state.memory import MemoryValues
from proxy.upstream.client import UpstreamClient
from proxy.upstream.http import upstream_url

PRIVATE_KEY_VARIABLE = "$KLAVIYO_PRIVATE_KEY"
PUBLIC_KEY_VARIABLE = "$KLAVIYO_PUBLIC_KEY"


@dataclass(frozen=True, slots=True)
class PlannedCall:
    number: int
    method: str
    url: str
    headers: Mapping[str, str]
    body: Any
    depends_on: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Explanation:
    legacy: str  # method and path, never the query (it may hold the key)
    entry: str | None
    calls: tuple[PlannedCall, ...]
    stopped: str | None  # the legacy error that ended the plan, if any
    # The entry's note: what the answer rests on (a prediction, a limit of the new API).
    note: str = ""


async def explain(
    entries: list[Entry],
    settings: Settings,
    spec: Spec,
    method: str,
    target: str,
    body: bytes = b"",
    headers: Mapping[str, str] | None = None,
    beta: Spec | None = None,
) -> Explanation:
    transport = DryRunTransport(spec, beta or pinned_spec(beta=True))
    # The real engine with a dry run for every service: writes are "sent now" through a
    # transport that only records them, whatever the app's delivery (a spool is never
    # touched), and markers or group kinds it learns stay in its own throwaway store.
    engine = Engine(entries, settings, UpstreamClient(transport), HANDLERS, delivery=SendNow(), state=MemoryValues())
    parts = urlsplit(target)
    method = method.upper()
    entry, stopped, note = None, None, ""
    try:
        match = engine.match(method, parts.path)
        entry, note = match.entry.source, match.entry.note
        request = parse_request(method, parts.path, parse_qsl(parts.query, keep_blank_values=True), headers or {}, body)
        await engine.handle(match, request, time.time_ns())
    except LegacyError as error:
        stopped = f"{error.status} {error.message}"
    calls = tuple(_planned(number, request, settings.upstream) for number, request in enumerate(transport.requests, 1))
    return Explanation(f"{method} {parts.path}", entry, calls, stopped, note)


def _planned(number: int, request: UpstreamRequest, base_url: str) -> PlannedCall:
    query = tuple((k, PUBLIC_KEY_VARIABLE if k == "company_id" else v) for k, v in request.query)
    headers = dict(request.headers)
    if "Authorization" in headers:
        headers["Authorization"] = f"Klaviyo-API-Key {PRIVATE_KEY_VARIABLE}"
    body = orjson.loads(request.body) if request.body else None
    url = upstream_url(base_url, replace(request, query=query)).replace("%24KLAVIYO", "$KLAVIYO")
    mentioned = {int(n) for n in PLACEHOLDER.findall(url + (request.body or b"").decode())}
    return PlannedCall(number, request.method, url, headers, body, tuple(sorted(n for n in mentioned if n < number)))


def render_text(explanation: Explanation) -> str:
    lines = [f"{explanation.legacy}  →  {explanation.entry or 'no mapping'}"]
    for call in explanation.calls:
        after = f"   (uses the result of call {', '.join(map(str, call.depends_on))})" if call.depends_on else ""
        lines.append(f"  {call.number}. {call.method} {unquote(call.url)}{after}")
        lines += [f"     {name}: {value}" for name, value in call.headers.items()]
        if call.body is not None:
            lines.append("     body: " + orjson.dumps(call.body).decode())
    if not explanation.calls:
        lines.append("  (no new-API call)")
    if explanation.stopped:
        lines.append(f"  stops with the legacy answer {explanation.stopped}")
    if explanation.note:
        lines += textwrap.wrap(explanation.note, width=100, initial_indent="  note: ", subsequent_indent="        ")
    return "\n".join(lines)


def render_curl(explanation: Explanation) -> str:
    blocks = []
    for call in explanation.calls:
        parts = [f"# {call.number}. {call.method} {urlsplit(call.url).path}"]
        if call.depends_on:
            parts.append(f"# uses the result of call {', '.join(map(str, call.depends_on))}: replace the dryrun-… ids")
        command = [f'curl -X {call.method} "{call.url}"']
        command += [f'-H "{name}: {value}"' for name, value in call.headers.items()]
        if call.body is not None:
            command.append("--data-raw " + shlex.quote(orjson.dumps(call.body).decode()))
        parts.append(" \\\n  ".join(command))
        blocks.append("\n".join(parts))
    return "\n\n".join(blocks) or f"# {explanation.legacy} makes no new-API call"


def render_json(explanation: Explanation) -> str:
    return orjson.dumps(explanation, option=orjson.OPT_INDENT_2).decode()


RENDERERS = {"text": render_text, "curl": render_curl, "json": render_json}
