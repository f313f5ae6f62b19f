"""Building new-API `filter` expressions with values that cannot break out of them."""

from __future__ import annotations

from typing import Iterable


def escaped(value: str) -> str:
    """The text of a double-quoted filter string holding `value`."""
    return value.replace("\\", "\\\\").replace('"', '\\"')


def literal(value: str) -> str:
    return f'"{escaped(value)}"'


def equals(field: str, value: str) -> str:
    return f"equals({field},{literal(value)})"


def any_of(field: str, values: Iterable[str]) -> str:
    """`any(email,["a@x.com","b@x.com"])`."""
    return f"any({field},[{','.join(literal(value) for value in values)}])"
