"""From a parsed legacy request to a legacy response, through the mapping table."""

from __future__ import annotations

import re
from functools import partial
from typing import Awaitable, Callable, Mapping

import structlog

from proxy.config import Settings
from proxy.engine.auth import request_credentials
from proxy.engine.context import Context
from proxy.engine.declared import EntryClient, UndeclaredCall
from proxy.engine.delivery import Delivery, SendNow
from proxy.engine.failures import legacy_error_for
from proxy.engine import bodies
from proxy.engine.lookup import lookup
from proxy.engine.matching import matched
from proxy.engine.params import coerce_params
from proxy.engine.sequence import sequence
from proxy.engine.state import KeyValue
from proxy.engine.styles import every, page_list, single
from proxy.engine.timeline import timeline
from proxy.legacy.envelopes import fits
from proxy.legacy.errors import NOT_FOUND, LegacyError, LegacyInputError
from proxy.legacy.request import LegacyRequest
from proxy.legacy.responses import LegacyResponse
from proxy.mapping.routes import Match, MethodNotAllowed, RouteNotFound, Router
from proxy.mapping.table import Entry, MappingError
from proxy.newapi.errors import UpstreamError
from proxy.path_templates import variables
from proxy.shapes.registry import SHAPES
from proxy.upstream.accounts import Accounts
from proxy.upstream.client import UpstreamClient

Runner = Callable[[Context], Awaitable[LegacyResponse]]

STYLES = {"none": single, "all": every, "page_list": page_list, "timeline": timeline}
# The runners for an entry's other steps, each with `paginate: none` (the default).
STEPS = {"lookup": lookup, "match": matched, "sequence": sequence}
_STYLE_PARAMS = {"page_list": ("page", "count"), "timeline": ("since", "count", "sort")}
# What each runner can answer; `empty` (a write with nothing to say) is the one needing no shape.
_STYLE_ENVELOPES = {
    "none": ("object", "empty"),
    "all": ("array",),
    "page_list": ("page_list",),
    "timeline": ("timeline",),
    "lookup": ("object",),
    "match": ("array",),
    "sequence": ("object", "empty"),
}
# Legacy ids are short alphanumerics or ULIDs; anything else cannot exist and must
# never be spliced into an upstream path or filter.
_SAFE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_INTERNAL = "An internal error occurred."

log = structlog.get_logger("proxy")


class Engine:
    """Serves legacy requests with the services it is built with: each request's context
    carries them (the upstream limited to its entry, the delivery, the state store, the
    settings), so swapping one here swaps it for every runner."""

    def __init__(
        self,
        entries: list[Entry],
        settings: Settings,
        upstream: UpstreamClient,
        handlers: Mapping[str, Runner],
        *,
        state: KeyValue,
        delivery: Delivery | None = None,
    ):
        self.router = Router(entries)
        self._runners = {entry.source: runner_for(entry, handlers) for entry in entries}
        self._settings = settings
        self._upstream = upstream
        self._delivery = delivery or SendNow()
        self._state = state
        self._accounts = Accounts(settings.token_keys)

    def match(self, method: str, raw_path: str) -> Match:
        try:
            return self.router.match(method, raw_path)
        except RouteNotFound:
            raise LegacyError(404, NOT_FOUND) from None
        except MethodNotAllowed as exc:
            raise LegacyError(405, f"Method not allowed. Use {', '.join(exc.allowed)}.", {"Allow": ", ".join(exc.allowed)}) from None

    async def handle(self, match: Match, request: LegacyRequest, received_at_ns: int) -> LegacyResponse:
        entry = match.entry
        if match.path_params and not all(_SAFE_ID.fullmatch(value) for value in match.path_params.values()):
            raise LegacyError(404, NOT_FOUND)
        credentials = request_credentials(entry.auth, request.api_key, self._settings)
        ctx = Context(
            entry=entry,
            request=request,
            path_params=match.path_params,
            params=coerce_params(entry.params, request.params),
            credentials=credentials,
            client=EntryClient(self._upstream, entry, credentials),
            delivery=self._delivery,
            state=self._state,
            received_at_ns=received_at_ns,
            settings=self._settings,
            account=self._accounts.of_credentials(credentials),
        )
        try:
            response = await self._runners[entry.source](ctx)
        except UpstreamError as failure:
            raise legacy_error_for(failure) from None
        except LegacyInputError as invalid:
            raise LegacyError(400, str(invalid)) from None
        except UndeclaredCall as breach:
            # The table and the code disagree: refuse rather than do what the entry does not say.
            log.error("undeclared_upstream_call", route=entry.legacy, operation=breach.operation)
            raise LegacyError(500, _INTERNAL) from None
        if not fits(entry.envelope, response):
            log.error("envelope_breach", route=entry.legacy, envelope=entry.envelope, status=response.status)
            raise LegacyError(500, _INTERNAL)
        return response


def runner_for(entry: Entry, handlers: Mapping[str, Runner]) -> Runner:
    problems = binding_problems(entry, handlers)
    if problems:
        raise MappingError(problems[0])
    if entry.handler:
        return handlers[entry.handler]
    steps = _steps_of(entry)
    style = STEPS[steps[0]] if steps else STYLES[entry.paginate]
    return partial(style, shape=SHAPES[entry.shape] if entry.shape else None)


def _steps_of(entry: Entry) -> list[str]:
    """Which of the declarative steps other than a plain call the entry names."""
    return [name for name, given in (("lookup", entry.lookup), ("match", entry.match is not None), ("sequence", entry.sequence)) if given]


def binding_problems(entry: Entry, handlers: Mapping[str, Runner]) -> list[str]:
    """Why the entry cannot run as written (empty when it can), each naming entry and field."""
    if entry.handler:
        return _handler_problems(entry, handlers)
    steps = _steps_of(entry)
    if len(steps) > 1:
        return [f"{entry.source}: field {steps[1]}: an entry takes one of lookup, match and sequence"]
    style = steps[0] if steps else entry.paginate
    problems = _answer_problems(entry, style)
    if steps and entry.paginate != "none":
        problems.append(f"{entry.source}: field paginate: {style} reads no pages")
    if entry.answer is not None and style != "sequence":
        problems.append(f"{entry.source}: field answer: only a sequence has steps to answer from")
    if style == "sequence":
        return problems + _sequence_problems(entry)
    return problems + _one_call_problems(entry, style)


def _handler_problems(entry: Entry, handlers: Mapping[str, Runner]) -> list[str]:
    problems = [] if entry.handler in handlers else [f"{entry.source}: field handler: no handler named {entry.handler!r}"]
    declarative = {
        "body": entry.body is not None,
        "sequence": bool(entry.sequence),
        "answer": entry.answer is not None,
        "match": entry.match is not None,
    }
    return problems + [f"{entry.source}: field {name}: a handler makes its own calls; remove it" for name, given in declarative.items() if given]


def _answer_problems(entry: Entry, style: str) -> list[str]:
    """The shape exists (none for an empty answer) and the runner can give the envelope."""
    problems = []
    if entry.envelope == "empty" and entry.shape:
        problems.append(f"{entry.source}: field respond.shape: an empty answer has no shape")
    elif entry.envelope != "empty" and entry.shape not in SHAPES:
        problems.append(f"{entry.source}: field respond.shape: no shape named {entry.shape!r}")
    if entry.envelope not in _STYLE_ENVELOPES[style]:
        expected = " or ".join(_STYLE_ENVELOPES[style])
        named = f"paginate {style}" if style in STYLES else style
        problems.append(f"{entry.source}: field respond.envelope: {named} answers {expected}")
    return problems


def _one_call_problems(entry: Entry, style: str) -> list[str]:
    """The entry's one call: declared alone, its body (a write's only) and path bound."""
    if len(entry.calls) != 1:
        return [f"{entry.source}: field calls: without a handler an entry makes exactly one call, or declares a sequence"]
    problems = []
    if entry.body is not None:
        if style != "none" or entry.calls[0].method == "GET":
            problems.append(f"{entry.source}: field body: only an entry's one write takes a body")
        problems += [f"{entry.source}: {problem}" for problem in bodies.problems(entry.body, "body", entry.params, variables(entry.path))]
    if entry.lookup:
        problems += _lookup_problems(entry)
    if entry.match is not None and entry.calls[0].method != "GET":
        problems.append(f"{entry.source}: field match: finds people with one GET of a collection")
    missing = [name for name in _STYLE_PARAMS.get(entry.paginate, ()) if name not in entry.params]
    if missing:
        problems.append(f"{entry.source}: field params: paginate {entry.paginate} needs {', '.join(missing)}")
    return problems + _path_param_problems(entry, "path_params", entry.calls[0].path, entry.path_params)


def _sequence_problems(entry: Entry) -> list[str]:
    """Each step makes a declared call, binds its path and builds its body from the entry's
    own legacy values; every declared call is some step's; the answer names a step."""
    problems = [
        f"{entry.source}: field {name}: a sequence's steps say their own calls"
        for name, given in (("path_params", entry.path_params), ("query", entry.query), ("filter", entry.filter), ("body", entry.body))
        if given
    ]
    answer = entry.answer or len(entry.sequence)
    if answer > len(entry.sequence):
        problems.append(f"{entry.source}: field answer: the sequence has {len(entry.sequence)} steps")
    elif entry.shape and entry.sequence[answer - 1].call.method == "DELETE":
        problems.append(f"{entry.source}: field answer: step {answer} deletes, and a deletion answers no document to shape")
    legacy = variables(entry.path)
    for number, step in enumerate(entry.sequence):
        where = f"sequence.{number}"
        if not entry.declares(step.call.method, step.call.path):
            problems.append(f"{entry.source}: field {where}.call: {step.call} is not declared in calls")
        unknown = sorted(set(variables(step.does)) - set(legacy))
        if unknown:
            problems.append(f"{entry.source}: field {where}.does: {unknown} not in {entry.path}")
        problems += _path_param_problems(entry, f"{where}.path_params", step.call.path, step.path_params)
        problems += [f"{entry.source}: {problem}" for problem in bodies.problems(step.body, f"{where}.body", entry.params, legacy)]
    made = {str(step.call) for step in entry.sequence}
    problems += [f"{entry.source}: field calls: no step makes {call}" for call in entry.calls if str(call) not in made]
    return problems


def _lookup_problems(entry: Entry) -> list[str]:
    problems = []
    if entry.paginate != "none" or entry.envelope != "object" or str(entry.calls[0]) != "GET /api/profiles":
        problems.append(f"{entry.source}: field lookup: answers one object from one GET /api/profiles")
    undeclared = [name for name in entry.lookup if name not in entry.params]
    if undeclared:
        problems.append(f"{entry.source}: field lookup: {', '.join(undeclared)} not in params")
    return problems


def _path_param_problems(entry: Entry, field: str, call_path: str, bound: Mapping[str, str]) -> list[str]:
    """Every variable of the call's path is bound, and only to variables of the legacy path."""
    needed = set(variables(call_path))
    if needed != set(bound):
        return [f"{entry.source}: field {field}: must bind exactly {sorted(needed) or 'nothing'}"]
    legacy = set(variables(entry.path))
    problems = []
    for name, template in bound.items():
        unknown = set(variables(template)) - legacy
        if unknown:
            problems.append(f"{entry.source}: field {field}.{name}: {sorted(unknown)} not in {entry.path}")
    return problems
