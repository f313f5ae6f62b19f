"""Request bodies the mapping table writes out (`body:` of an entry or of a sequence step).

A body is the JSON:API document as YAML. A leaf that is exactly `"{params.NAME}"` or
`"{path.NAME}"` inserts that legacy value with its type (a `json` parameter's object
stays an object), through the named conversion when it ends `|conversion`
(`proxy.shapes.registry.CONVERSIONS`); an absent value (None) leaves its key out, so a
partial update sends only what the client gave. Every other leaf is a constant.
"""

from __future__ import annotations

import re
from typing import Any, Iterator, Mapping

from proxy.shapes.registry import CONVERSIONS

REFERENCE = re.compile(r"\{(params|path)\.([a-z_]+)(?:\|([a-z_]+))?\}")
_ABSENT = object()


def build(template: Any, params: Mapping[str, Any], path_params: Mapping[str, str]) -> Any:
    """The body for one request; None when the template is None (no body)."""
    if template is None:
        return None
    return _build(template, {"params": params, "path": path_params})


def _build(node: Any, sources: Mapping[str, Mapping[str, Any]]) -> Any:
    if isinstance(node, dict):
        built = {key: _build(value, sources) for key, value in node.items()}
        return {key: value for key, value in built.items() if value is not _ABSENT}
    if isinstance(node, list):
        return [value for value in (_build(item, sources) for item in node) if value is not _ABSENT]
    reference = REFERENCE.fullmatch(node) if isinstance(node, str) else None
    if reference is None:
        return node
    source, name, conversion = reference.groups()
    value = sources[source][name]
    if conversion:
        value = CONVERSIONS[conversion](value, name)
    return _ABSENT if value is None else value


def problems(template: Any, where: str, params: Mapping[str, Any], path_variables: list[str]) -> list[str]:
    """Why the template cannot be built for its entry, each naming the field (`where`.…)."""
    found = []
    known = {"params": set(params), "path": set(path_variables)}
    for field, leaf in _leaves(template, where):
        reference = REFERENCE.fullmatch(leaf)
        if reference is None:
            if "{" in leaf:
                found.append(f"field {field}: {leaf!r} is neither a constant nor a whole {{params.NAME}} or {{path.NAME}}")
            continue
        source, name, conversion = reference.groups()
        if name not in known[source]:
            declared = "params" if source == "params" else "the legacy path"
            found.append(f"field {field}: {name!r} is not in {declared}")
        if conversion and conversion not in CONVERSIONS:
            found.append(f"field {field}: no conversion named {conversion!r}")
    return found


def _leaves(node: Any, where: str) -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _leaves(value, f"{where}.{key}")
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _leaves(item, f"{where}.{index}")
    elif isinstance(node, str):
        yield where, node
