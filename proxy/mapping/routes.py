"""Match a legacy request line against the compiled mapping table."""

from __future__ import annotations

import re
from dataclasses import dataclass
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
    only its group, in table order (the first match wins, as over the whole table)."""

    def __init__(self, entries: list[Entry]):
        self._routes = [(_compile(entry.path), entry) for entry in entries]
        self._by_depth: dict[int, list[tuple[re.Pattern[str], Entry]]] = {}
        for pattern, entry in self._routes:
            self._by_depth.setdefault(entry.path.count("/"), []).append((pattern, entry))

    def __len__(self) -> int:
        return len(self._routes)

    def match(self, method: str, raw_path: str) -> Match:
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
