"""Reading JSON:API request bodies. The spec validator checks bodies first when a spec is
loaded; these checks keep handlers safe without one and point at the member at fault."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from proxy.sandbox import errors

NUMBER = (int, float)
KIND_NAMES = {dict: "an object", str: "a string", list: "an array", bool: "a boolean", int: "a number", float: "a number"}


def resource_data(body: Any, resource_type: str) -> dict[str, Any]:
    """The `data` object of a body that must describe a resource of `resource_type`."""
    if not isinstance(body, dict):
        raise errors.invalid("The request body must be a JSON object.", pointer="/")
    data = member(body, "data", "", dict, required=True)
    if data.get("type") != resource_type:
        raise errors.invalid(f"'type' must be {resource_type!r}.", pointer="/data/type")
    return data


def member(
    container: Mapping[str, Any], name: str, at: str, kind: type | tuple[type, ...], *, required: bool = False
) -> Any:
    """`container[name]` when it is of `kind`; None when absent or null and not required."""
    value = container.get(name)
    pointer = f"{at}/{name}"
    if value is None:
        if required:
            raise errors.invalid(f"'{name}' is required.", pointer=pointer)
        return None
    # bool is an int subclass; a number member must not accept true/false.
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise errors.invalid(f"'{name}' must be {_describe(kind)}.", pointer=pointer)
    return value


def _describe(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(dict.fromkeys(KIND_NAMES[k] for k in kinds))


def path_id(data: Mapping[str, Any], in_path: str) -> str:
    """The required `/data/id` of an update, which must repeat the id in the path."""
    body_id = member(data, "id", "/data", str, required=True)
    if body_id != in_path:
        raise errors.invalid(f"'{body_id}' does not match the id in the path.", pointer="/data/id")
    return body_id


def attributes_of(data: Mapping[str, Any]) -> dict[str, Any]:
    """The required `attributes` object of a request's `data`."""
    return member(data, "attributes", "/data", dict, required=True)
