"""Klaviyo's `filter=` expressions: parse one, and check it against an operation's
`x-klaviyo-filters`.

Grammar (Klaviyo's filtering guide; new-api-targets.md §1.3):

    expression := condition ("," condition)*      top-level commas are an implicit AND
    condition  := "and(" expression ")" | OPERATOR "(" FIELD ["," value] ")"
    value      := scalar | "[" scalar ("," scalar)* "]"
    scalar     := 'text' | "text" | true | false | null | NUMBER | DATETIME

Strings take backslash escapes; datetimes are unquoted ISO 8601 and read as UTC when they
carry no offset. `or` and `not` are refused: no operation the proxy targets documents them.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from proxy.openapi.datetimes import parse_datetime

OPERATORS = frozenset(
    {
        "equals",
        "any",
        "has",
        "greater-than",
        "greater-or-equal",
        "less-than",
        "less-or-equal",
        "contains",
        "contains-any",
        "contains-all",
        "starts-with",
        "ends-with",
    }
)
UNSUPPORTED_OPERATORS = frozenset({"or", "not"})

_OPERATOR = re.compile(r"[a-z]+(?:-[a-z]+)*")
_FIELD = re.compile(r"[\w$.:-]+")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")
_LOOKS_LIKE_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_UNQUOTED = re.compile(r"[^,()\[\]'\"]+")


class NoValue(enum.Enum):
    NO_VALUE = "no value"  # the argument a `has(profile)` condition does not have


NO_VALUE = NoValue.NO_VALUE

Scalar = str | int | float | bool | datetime | None
Value = Scalar | list[Scalar] | NoValue


@dataclass(frozen=True)
class Condition:
    operator: str
    field: str
    value: Value = NO_VALUE


class FilterError(ValueError):
    def __init__(self, message: str, column: int) -> None:
        super().__init__(f"{message} at column {column}")
        self.column = column


def parse(expression: str) -> list[Condition]:
    """The conditions of a filter expression, `and(...)` flattened (all are ANDed).

    Raises FilterError naming the problem and its 1-based column.
    """
    return _Parser(expression).parse()


def check(conditions: Iterable[Condition], allowed: Mapping[str, Any]) -> list[str]:
    """Violations of an operation's `x-klaviyo-filters` (empty when the filter is acceptable).

    `operators.single` take a scalar, `operators.list` a bracketed list and
    `operators.none` no value at all (`has`).
    """
    return [problem for condition in conditions for problem in _problems(condition, allowed)]


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def parse(self) -> list[Condition]:
        if not self.text.strip():
            raise FilterError("empty filter expression", 1)
        conditions = self.conditions()
        self.skip_space()
        if self.pos < len(self.text):
            raise self.unexpected("',' or the end of the expression")
        return conditions

    def conditions(self) -> list[Condition]:
        found = self.condition()
        while self.accept(","):
            found += self.condition()
        return found

    def condition(self) -> list[Condition]:
        self.skip_space()
        column = self.pos + 1
        operator = self.expect_pattern(_OPERATOR, "an operator such as equals(")
        if operator in UNSUPPORTED_OPERATORS:
            raise FilterError(f"operator {operator!r} is not supported; combine with and()", column)
        if operator != "and" and operator not in OPERATORS:
            raise FilterError(f"unknown operator {operator!r}", column)
        self.expect("(")
        if operator == "and":
            found = self.conditions()
        else:
            field = self.expect_pattern(_FIELD, "a field name")
            found = [Condition(operator, field, self.value() if self.accept(",") else NO_VALUE)]
        self.expect(")")
        return found

    def value(self) -> Scalar | list[Scalar]:
        if not self.accept("["):
            return self.scalar()
        items = [self.scalar()]
        while self.accept(","):
            items.append(self.scalar())
        self.expect("]")
        return items

    def scalar(self) -> Scalar:
        self.skip_space()
        if self.peek() in ("'", '"'):
            return self.quoted()
        unquoted = _UNQUOTED.match(self.text, self.pos)
        if unquoted is None:
            raise self.unexpected("a value")
        column = self.pos + 1
        self.pos = unquoted.end()
        return _unquoted_value(unquoted.group().rstrip(), column)

    def quoted(self) -> str:
        column = self.pos + 1
        quote = self.text[self.pos]
        self.pos += 1
        chars = []
        while self.pos < len(self.text):
            char = self.text[self.pos]
            self.pos += 1
            if char == quote:
                return "".join(chars)
            if char == "\\" and self.pos < len(self.text):
                char = self.text[self.pos]
                self.pos += 1
            chars.append(char)
        raise FilterError("unterminated string", column)

    def expect_pattern(self, pattern: re.Pattern[str], description: str) -> str:
        self.skip_space()
        found = pattern.match(self.text, self.pos)
        if found is None:
            raise self.unexpected(description)
        self.pos = found.end()
        return found.group()

    def expect(self, char: str) -> None:
        if not self.accept(char):
            raise self.unexpected(repr(char))

    def accept(self, char: str) -> bool:
        self.skip_space()
        if self.peek() != char:
            return False
        self.pos += 1
        return True

    def peek(self) -> str:
        return self.text[self.pos : self.pos + 1]

    def skip_space(self) -> None:
        while self.peek().isspace():
            self.pos += 1

    def unexpected(self, expected: str) -> FilterError:
        found = repr(self.peek()) if self.peek() else "the end of the expression"
        return FilterError(f"expected {expected}, found {found}", self.pos + 1)


def _unquoted_value(token: str, column: int) -> Scalar:
    literals: dict[str, Scalar] = {"true": True, "false": False, "null": None}
    if token in literals:
        return literals[token]
    if _NUMBER.fullmatch(token):
        return int(token) if token.lstrip("-").isdigit() else float(token)
    if _LOOKS_LIKE_DATE.match(token):
        try:
            return parse_datetime(token)
        except ValueError:
            raise FilterError(f"invalid datetime {token!r}", column) from None
    raise FilterError(f"unquoted value {token!r}; strings must be in quotes", column)


def _problems(condition: Condition, allowed: Mapping[str, Any]) -> list[str]:
    rule = allowed.get(condition.field)
    if rule is None:
        fields = ", ".join(sorted(allowed)) or "none"
        return [f"field {condition.field!r} cannot be filtered on (filterable: {fields})"]
    operators = rule.get("operators", {})
    if condition.operator not in operators.get(_arity(condition.value), ()):
        return [_operator_problem(condition, operators)]
    return _value_problems(condition, rule.get("value") or {})


def _arity(value: Value) -> str:
    if value is NO_VALUE:
        return "none"
    return "list" if isinstance(value, list) else "single"


def _operator_problem(condition: Condition, operators: Mapping[str, list[str]]) -> str:
    accepted = ", ".join(
        _form(operator, condition.field, arity)
        for arity, names in operators.items()
        for operator in names
    )
    used = _form(condition.operator, condition.field, _arity(condition.value))
    return f"{used} is not allowed; {condition.field!r} accepts {accepted}"


def _form(operator: str, field: str, arity: str) -> str:
    argument = {"none": "", "single": ",value", "list": ",[values]"}[arity]
    return f"{operator}({field}{argument})"


def _value_problems(condition: Condition, schema: Mapping[str, Any]) -> list[str]:
    values = condition.value if isinstance(condition.value, list) else [condition.value]
    return [
        f"{condition.operator}({condition.field},...): {problem}"
        for value in values
        if (problem := _value_problem(value, schema))
    ]


def _value_problem(value: Scalar, schema: Mapping[str, Any]) -> str | None:
    # Klaviyo documents no per-field null semantics, so null is not second-guessed here.
    if value is None:
        return None
    kind = "datetime" if schema.get("format") == "date-time" else schema.get("type")
    if kind in _KINDS and not _KINDS[kind](value):
        hint = " (datetimes go unquoted)" if kind == "datetime" and isinstance(value, str) else ""
        return f"expected {kind}, got {_describe(value)}{hint}"
    if "enum" in schema and value not in schema["enum"]:
        return f"{value!r} is not one of {', '.join(map(repr, schema['enum']))}"
    return None


_KINDS = {
    "datetime": lambda v: isinstance(v, datetime),
    "string": lambda v: isinstance(v, str),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
}


def _describe(value: Scalar) -> str:
    if isinstance(value, datetime):
        return f"datetime {value.isoformat()}"
    if isinstance(value, str):
        return f"string {value!r}"
    return f"{type(value).__name__} {value!r}"
