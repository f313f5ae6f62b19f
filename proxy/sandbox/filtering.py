"""Evaluating parsed `filter=` conditions against stored records.

Each resource declares the fields it can be filtered on: how to read the field from a
record and how to fold values before comparing (e.g. times compare as instants).
Which operators an operation allows is the spec's business (`filters.check`); here every
operator that makes sense for the value is evaluated.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from proxy.openapi.datetimes import parse_datetime
from proxy.openapi.filters import NO_VALUE, Condition, FilterError, parse
from proxy.sandbox import errors

T = TypeVar("T")
Predicate = Callable[[T], bool]

ORDERINGS: dict[str, Callable[[Any, Any], bool]] = {
    "greater-than": operator.gt,
    "greater-or-equal": operator.ge,
    "less-than": operator.lt,
    "less-or-equal": operator.le,
}


def unchanged(value: Any) -> Any:
    return value


def as_number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{value!r} is not a number")
    return value


def as_seconds(value: Any) -> float:
    """A datetime (or ISO 8601 text) as epoch seconds, comparable with stored timestamps."""
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, str):
        return parse_datetime(value).timestamp()
    return as_number(value)


@dataclass(frozen=True, slots=True)
class Field(Generic[T]):
    read: Callable[[T], Any]
    fold: Callable[[Any], Any] = unchanged


def parse_filter(expression: str | None) -> list[Condition]:
    if expression is None:
        return []
    try:
        return parse(expression)
    except FilterError as error:
        raise errors.invalid(f"Invalid filter: {error}", parameter="filter") from None


def predicate(conditions: list[Condition], fields: Mapping[str, Field[T]]) -> Predicate[T]:
    tests = [_test(condition, fields) for condition in conditions]
    return lambda record: all(test(record) for test in tests)


def _test(condition: Condition, fields: Mapping[str, Field[T]]) -> Predicate[T]:
    field = fields.get(condition.field)
    if field is None:
        raise errors.invalid(f"'{condition.field}' is not a valid filter field.", parameter="filter")
    if condition.operator == "has":
        return lambda record: field.read(record) is not None
    if condition.value is NO_VALUE:
        raise errors.invalid(f"'{condition.operator}' needs a value.", parameter="filter")
    try:
        return _compare(condition, field)
    except (ValueError, TypeError) as error:
        raise errors.invalid(f"Invalid filter value for '{condition.field}': {error}", parameter="filter") from None


def _compare(condition: Condition, field: Field[T]) -> Predicate[T]:
    def folded(record: T) -> Any:
        value = field.read(record)
        return None if value is None else field.fold(value)

    if condition.operator in ("equals", "any"):
        if isinstance(condition.value, list):
            accepted = {field.fold(value) for value in condition.value}
            return lambda record: folded(record) in accepted
        if condition.operator == "any":
            raise ValueError("'any' takes a list")
        expected = field.fold(condition.value)
        return lambda record: folded(record) == expected
    ordering = ORDERINGS.get(condition.operator)
    if ordering is None:
        raise errors.invalid(f"'{condition.operator}' is not supported for '{condition.field}'.", parameter="filter")
    bound = field.fold(condition.value)
    return lambda record: (value := folded(record)) is not None and ordering(value, bound)
