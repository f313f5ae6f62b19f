"""How a request reaches a handler: routes by method and path template, each declared on
its handler, the plain `Call` a handler receives and the `Reply` it returns."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from proxy.newapi.messages import Query
from proxy.openapi.spec import PageSize
from proxy.sandbox import errors
from proxy.sandbox.ids import IdFactory
from proxy.sandbox.store import Account


@dataclass(frozen=True, slots=True)
class Call:
    account: Account
    path: str  # percent-encoded, as received
    path_params: Mapping[str, str]  # decoded
    query: Query
    body: Any  # parsed JSON; None when the request had no body
    now: float
    ids: IdFactory
    base_url: str
    page_bounds: PageSize | None  # the operation's page[size] limits, None if it has none

    def param(self, name: str) -> str | None:
        return next((value for key, value in self.query if key == name), None)

    def csv(self, name: str) -> list[str]:
        value = self.param(name)
        return [item for item in value.split(",") if item] if value else []


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    document: dict[str, Any] | None = None  # None: an empty body (the 202s)


Handler = Callable[[Call], Reply]


@dataclass(frozen=True, slots=True)
class Route:
    method: str
    template: str
    operation_id: str
    handler: Handler


class RouteTable:
    """A resource module's routes, declared where each handler is defined:

        @ROUTES.route("GET", "/api/lists")
        def get_lists(call: Call) -> Reply: ...

    The operation id is the handler's name, which is the spec's operationId, unless the
    route names another (one handler serving two operations, a beta operation's suffix).
    """

    def __init__(self) -> None:
        self._routes: list[Route] = []

    def __iter__(self) -> Iterator[Route]:
        return iter(self._routes)

    def route(self, method: str, template: str, operation_id: str | None = None) -> Callable[[Handler], Handler]:
        def declare(handler: Handler) -> Handler:
            self._routes.append(Route(method, template, operation_id or handler.__name__, handler))
            return handler

        return declare


class Router:
    def __init__(self, routes: Iterable[Route]) -> None:
        self._routes = [(route, route.template.split("/")) for route in routes]

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]]:
        """The route for a percent-encoded path and its decoded variables.

        A literal segment beats a variable position by position, so `/api/profiles/x`
        never shadows a literal sibling such as `/api/profiles/export`.
        """
        segments = path.split("/")
        matching = [(route, parts) for route, parts in self._routes if _matches(parts, segments)]
        if not matching:
            raise errors.not_found(f"The path {path} could not be found.")
        allowed = [(route, parts) for route, parts in matching if route.method == method.upper()]
        if not allowed:
            raise errors.method_not_allowed(method)
        route, parts = min(allowed, key=lambda candidate: [_is_variable(part) for part in candidate[1]])
        return route, {
            part[1:-1]: unquote(segment) for part, segment in zip(parts, segments) if _is_variable(part)
        }


def _is_variable(part: str) -> bool:
    return part.startswith("{") and part.endswith("}")


def _matches(template: list[str], segments: list[str]) -> bool:
    return len(template) == len(segments) and all(
        segment != "" if _is_variable(part) else part == segment
        for part, segment in zip(template, segments)
    )
