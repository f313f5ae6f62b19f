"""Match a legacy request line against the compiled mapping table."""

from __future__ import annotations

import re
from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping
from urllib.parse import unquote

from proxy.mapping.table import Entry
from proxy.path_templates import VARIABLE


@dataclass(frozen=True, slots=True)
class Match:
    entry: Entry
    path_params: Mapping[str, str]


class RouteNotFound(Exception):
    pass


class MethodNotAllowed(Exception):
    def __init__(self, allowed: tuple[str, ...]):
        super().__init__(", ".join(allowed))
        self.allowed = allowed


class Router:
    """Routes on the raw (still percent-encoded) path so `%2F` in an id stays inside it.

    A template's variables never span a `/`, so a path can only match templates with as
    many segments as it has: the table is grouped by that count once, and a request tries
    only its group, in table order (the first match wins, as over the whole table).

    The paths of templates without variables (track, identify, most reads) are answered
    from a table the search itself fills once, for every method the table knows: a dict
    lookup instead of a regex per template tried, and the same answer by construction."""

    def __init__(self, entries: list[Entry]):
        self._routes = [(_compile(entry.path), entry) for entry in entries]
        self._by_depth: dict[int, list[tuple[re.Pattern[str], Entry]]] = {}
        for pattern, entry in self._routes:
            self._by_depth.setdefault(entry.path.count("/"), []).append((pattern, entry))
        methods = {method for entry in entries for method in entry.methods}
        self._fixed: dict[tuple[str, str], Match] = {}
        for entry in entries:
            if VARIABLE.search(entry.path):
                continue
            for path in (entry.path, entry.path + "/"):
                for method in methods:
                    try:
                        found = self._search(method, path)
                    except (RouteNotFound, MethodNotAllowed):
                        continue
                    # Shared by every request for that path: read-only.
                    self._fixed[method, path] = Match(found.entry, MappingProxyType(found.path_params))

    def __len__(self) -> int:
        return len(self._routes)

    def match(self, method: str, raw_path: str) -> Match:
        fixed = self._fixed.get((method, raw_path))
        return fixed if fixed is not None else self._search(method, raw_path)

    def _search(self, method: str, raw_path: str) -> Match:
        allowed: list[str] = []
        depth = raw_path.count("/") - raw_path.endswith("/")  # one trailing slash is allowed
        for pattern, entry in self._by_depth.get(depth, ()):
            found = pattern.fullmatch(raw_path)
            if not found:
                continue
            if method not in entry.methods:
                allowed.extend(entry.methods)
                continue
            params = {name: unquote(value) for name, value in found.groupdict().items()}
            return Match(entry, params)
        if allowed:
            raise MethodNotAllowed(tuple(allowed))
        raise RouteNotFound(raw_path)


def _compile(template: str) -> re.Pattern[str]:
    pattern, last = "", 0
    for variable in VARIABLE.finditer(template):
        pattern += re.escape(template[last : variable.start()]) + f"(?P<{variable.group(1)}>[^/]+)"
        last = variable.end()
    pattern += re.escape(template[last:]) + "/?"
    return re.compile(pattern)
