"""The part of Klaviyo's Django-style template language the sandbox renders.

`{{ name }}` and dotted lookups (`{{ person.first_name }}`, `{{ items.0 }}`) are replaced by
the context value, HTML-escaped in HTML as Django's autoescape does; a missing value is
empty. `{{ name|default:"x" }}` (or `default:other.name`) stands in for a missing or falsy
value. Other filters leave the value as it is, and `{% … %}` tags stay in the output.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping
from typing import Any

_VARIABLE = re.compile(r"{{\s*(?P<name>[A-Za-z_][\w.]*)\s*(?P<filters>(?:\|[^}]*)?)}}")
_DEFAULT = re.compile(r"""\|\s*default\s*:\s*(?:"(?P<double>[^"]*)"|'(?P<single>[^']*)'|(?P<bare>[\w.]+))""")
_MISSING = object()
_BLOCKS = re.compile(r"<(script|style)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_BREAKS = re.compile(r"<br\s*/?>|</(?:p|div|h[1-6]|li|tr|table)\s*>", re.IGNORECASE)
_TAGS = re.compile(r"<[^>]+>")


def render(source: str, context: Mapping[str, Any], *, escape: bool) -> str:
    quote: Callable[[str], str] = html.escape if escape else str
    return _VARIABLE.sub(lambda match: quote(_display(_value(match, context))), source)


def text_version(rendered_html: str) -> str:
    """A plain-text rendition of HTML, for templates that carry no text part of their own."""
    text = _TAGS.sub(" ", _BREAKS.sub("\n", _BLOCKS.sub("", rendered_html)))
    lines = (" ".join(line.split()) for line in html.unescape(text).splitlines())
    return "\n".join(line for line in lines if line)


def _value(match: re.Match[str], context: Mapping[str, Any]) -> Any:
    value = _lookup(context, match.group("name"))
    default = _DEFAULT.search(match.group("filters"))
    if default is None or (value is not _MISSING and value):
        return value
    if default.group("bare") is None:
        return default.group("double") if default.group("double") is not None else default.group("single")
    bare = default.group("bare")
    return bare if bare.lstrip("-").isdigit() else _lookup(context, bare)


def _lookup(context: Mapping[str, Any], dotted: str) -> Any:
    value: Any = context
    for part in dotted.split("."):
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return _MISSING
    return value


def _display(value: Any) -> str:
    if value is _MISSING or value is None:
        return ""
    return str(value)
