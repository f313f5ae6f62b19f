"""Finding what a request names by id: the stored resource, or the error Klaviyo answers."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from proxy.sandbox import errors

T = TypeVar("T")


def existing(find: Callable[[str], T | None], noun: str, resource_id: str, *, pointer: str | None = None) -> T:
    """What `find` holds under `resource_id`. An id that names nothing is a 404, or, given
    the `pointer` to where the body names it, a 400 pointing there."""
    resource = find(resource_id)
    if resource is None:
        detail = f"A {noun} with id {resource_id!r} does not exist."
        raise errors.invalid(detail, pointer=pointer) if pointer else errors.not_found(detail)
    return resource
