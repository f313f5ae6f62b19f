"""From a parsed legacy request to a legacy response, through the mapping table."""

from __future__ import annotations

import importlib
import re
from functools import partial
from typing import Awaitable, Callable

from proxy.config import Settings
from proxy.engine.context import Context
from proxy.engine.failures import legacy_error_for
from proxy.engine.params import coerce_params
from proxy.engine.styles import page_list, single
from proxy.engine.timeline import timeline
from proxy.legacy.errors import NOT_FOUND, LegacyError
from proxy.legacy.request import LegacyRequest
from proxy.legacy.responses import LegacyResponse
from proxy.mapping.routes import Match, MethodNotAllowed, RouteNotFound, Router
from proxy.mapping.table import Entry, MappingError
from proxy.state.store import State
from proxy.upstream.accounts import Accounts
from proxy.upstream.client import Credentials, UpstreamClient
from proxy.upstream.errors import UpstreamError

Runner = Callable[[Context], Awaitable[LegacyResponse]]

STYLES = {"none": single, "page_list": page_list, "timeline": timeline}
_STYLE_PARAMS = {"page_list": ("page", "count"), "timeline": ("since", "count", "sort")}
# Legacy ids are short alphanumerics or ULIDs; anything else cannot exist and must
# never be spliced into an upstream path or filter.
_VARIABLE = re.compile(r"\{([a-z_]+)\}")
_SAFE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
# Keys end up in a header or the query string: nothing but key characters may pass.
SAFE_KEY = re.compile(r"[A-Za-z0-9_-]{1,128}")


class Engine:
    def __init__(self, entries: list[Entry], settings: Settings, upstream: UpstreamClient, state: State):
        self.router = Router(entries)
        self._runners = {entry.source: runner_for(entry) for entry in entries}
        self._settings = settings
        self._upstream = upstream
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
        if not all(_SAFE_ID.fullmatch(value) for value in match.path_params.values()):
            raise LegacyError(404, NOT_FOUND)
        credentials = self._credentials(entry, request)
        ctx = Context(
            entry=entry,
            request=request,
            path_params=match.path_params,
            params=coerce_params(entry.params, request.params),
            credentials=credentials,
            upstream=self._upstream,
            received_at_ns=received_at_ns,
            settings=self._settings,
            state=self._state,
            account=self._accounts.of_credentials(credentials),
        )
        try:
            return await self._runners[entry.source](ctx)
        except UpstreamError as failure:
            raise legacy_error_for(failure) from None

    def _credentials(self, entry: Entry, request: LegacyRequest) -> Credentials:
        settings = self._settings
        if entry.auth != "api_key":
            # Sidecar mode: with a key configured, public calls use the private endpoints.
            return Credentials(private_key=settings.private_key)
        inbound = request.api_key
        if inbound is not None and not SAFE_KEY.fullmatch(inbound):
            raise LegacyError(403, "The API key specified is invalid.")
        if settings.allowed_keys and inbound not in settings.allowed_keys:
            raise LegacyError(403, "The API key specified is invalid.")
        key = inbound
        if settings.private_key and (settings.private_key_mode == "always" or not inbound):
            key = settings.private_key
        if not key:
            raise LegacyError(403, "You must specify an API key to make requests.")
        return Credentials(private_key=key)


def runner_for(entry: Entry) -> Runner:
    if entry.handler:
        return _named(entry, "handler", "proxy.handlers", entry.handler)
    shape = _named(entry, "respond.shape", "proxy.shapes", entry.shape or "")
    missing = [name for name in _STYLE_PARAMS.get(entry.paginate, ()) if name not in entry.params]
    if missing:
        raise MappingError(f"{entry.source}: field params: paginate {entry.paginate} needs {', '.join(missing)}")
    _check_path_params(entry)
    return partial(STYLES[entry.paginate], shape=shape)


def _check_path_params(entry: Entry) -> None:
    """Every variable of the call's path is bound, and only to variables of the legacy path."""
    needed = set(_VARIABLE.findall(entry.calls[0].path))
    if needed != set(entry.path_params):
        raise MappingError(f"{entry.source}: field path_params: must bind exactly {sorted(needed) or 'nothing'}")
    legacy = set(_VARIABLE.findall(entry.path))
    for name, template in entry.path_params.items():
        unknown = set(_VARIABLE.findall(template)) - legacy
        if unknown:
            raise MappingError(f"{entry.source}: field path_params.{name}: {sorted(unknown)} not in {entry.path}")


def _named(entry: Entry, field: str, package: str, name: str) -> Callable:
    """`module.function` inside `package`, or a MappingError naming the entry's field."""
    module_name, _, function_name = name.rpartition(".")
    try:
        return getattr(importlib.import_module(f"{package}.{module_name}"), function_name)
    except (ImportError, AttributeError, ValueError):
        raise MappingError(f"{entry.source}: field {field}: no {field.split('.')[-1]} named {name!r}") from None
