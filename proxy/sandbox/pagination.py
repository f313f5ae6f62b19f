"""Keyset pagination behind opaque `page[cursor]` values.

A cursor records the sort it was made for and the sort key of the last item served,
and every sort key ends with the record id, so keys are unique: a page resumes strictly
after that key and never skips or repeats records that share a sort value, in either
direction, even when records are added between pages.
"""

from __future__ import annotations

import base64
import binascii
import bisect
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import Any, Generic, TypeVar

import orjson

from proxy.sandbox import errors
from proxy.sandbox.filtering import Field, parse_filter, predicate
from proxy.sandbox.jsonapi import request_url
from proxy.sandbox.routing import Call

T = TypeVar("T")
SortKey = tuple[Any, ...]  # JSON-representable values, the record id last


@dataclass(frozen=True, slots=True)
class Sort(Generic[T]):
    name: str  # as in the query, e.g. "-datetime"
    key: Callable[[T], SortKey]

    @property
    def descending(self) -> bool:
        return self.name.startswith("-")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


def sorts_by(*attributes: str, **renamed: str) -> dict[str, Callable[[Any], SortKey]]:
    """Sorts that each order by one attribute of the record, named as the attribute or
    (`created_at="created"`) otherwise; the record id breaks ties and `id` stands alone."""
    named = {attribute: attribute for attribute in attributes} | renamed
    return {name: _by_attribute(attribute) for name, attribute in named.items()}


def _by_attribute(attribute: str) -> Callable[[Any], SortKey]:
    if attribute == "id":
        return lambda record: (record.id,)
    read = attrgetter(attribute)
    return lambda record: (read(record), record.id)


def choose_sort(call: Call, sorts: Mapping[str, Callable[[T], SortKey]], default: str) -> Sort[T]:
    """The requested sort; each key of `sorts` serves both `name` and `-name`."""
    name = call.param("sort") or default
    key = sorts.get(name.removeprefix("-"))
    if key is None:
        raise errors.invalid(f"'{name}' is not a valid sort.", parameter="sort")
    return Sort(name, key)


def page_size(call: Call) -> int:
    """`page[size]` within the operation's bounds, the operation's default when absent."""
    bounds = call.page_bounds
    if bounds is None:
        raise TypeError(f"{call.path} takes no page[size]; the handler must use its fixed size")
    raw = call.param("page[size]")
    if raw is None:
        return bounds.default
    if not raw.isdigit() or not bounds.minimum <= int(raw) <= bounds.maximum:
        raise errors.invalid(
            f"page[size] must be an integer between {bounds.minimum} and {bounds.maximum}.",
            parameter="page[size]",
        )
    return int(raw)


def requested_page(
    call: Call,
    records: Iterable[T],
    fields: Mapping[str, Field[T]],
    sorts: Mapping[str, Callable[[T], SortKey]],
    default_sort: str,
) -> Page[T]:
    """The page of `records` the call's `filter`, `sort`, `page[cursor]` and `page[size]` ask for."""
    keep = predicate(parse_filter(call.param("filter")), fields)
    sort = choose_sort(call, sorts, default=default_sort)
    return paginate(sorted(records, key=sort.key), sort, call.param("page[cursor]"), page_size(call), keep)


def paginate(
    ordered: Sequence[T], sort: Sort[T], cursor: str | None, size: int, keep: Callable[[T], bool]
) -> Page[T]:
    """One page of the records in `ordered` (ascending by `sort.key`) that `keep` accepts,
    resuming after `cursor`."""
    start = _resume_at(ordered, sort, _decode(cursor, sort.name))
    indexes = range(start - 1, -1, -1) if sort.descending else range(start, len(ordered))
    items: list[T] = []
    for record in (ordered[i] for i in indexes):
        if not keep(record):
            continue
        if len(items) == size:
            return Page(items, _encode(sort.name, sort.key(items[-1])))
        items.append(record)
    return Page(items, None)


def _resume_at(ordered: Sequence[T], sort: Sort[T], after: SortKey | None) -> int:
    """Where the walk starts: the first index past `after` ascending, the last before it descending."""
    if after is None:
        return len(ordered) if sort.descending else 0
    try:
        if sort.descending:
            return bisect.bisect_left(ordered, after, key=sort.key)
        return bisect.bisect_right(ordered, after, key=sort.key)
    except TypeError:  # a well-formed cursor whose key does not compare with this sort's keys
        raise _invalid_cursor() from None


def page_links(call: Call, page: Page[Any]) -> dict[str, str]:
    """`self`, plus `next` (every original parameter and the new cursor) unless this is the last page."""
    links = {"self": request_url(call)}
    if page.next_cursor is not None:
        links["next"] = request_url(call, {"page[cursor]": page.next_cursor})
    return links


def _encode(sort_name: str, key: SortKey) -> str:
    return base64.urlsafe_b64encode(orjson.dumps([sort_name, key])).decode().rstrip("=")


def _decode(cursor: str | None, sort_name: str) -> SortKey | None:
    if cursor is None:
        return None
    try:
        made_for, key = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, orjson.JSONDecodeError, TypeError, ValueError):
        made_for, key = None, None
    if made_for != sort_name or not isinstance(key, list):
        raise _invalid_cursor()
    return tuple(key)


def _invalid_cursor() -> errors.ApiError:
    return errors.invalid("Invalid page cursor.", parameter="page[cursor]")
