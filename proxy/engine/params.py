"""Legacy parameters declared in a mapping entry, coerced once with legacy 400s."""

from __future__ import annotations

from typing import Any, Mapping

from proxy.legacy import exact_json
from proxy.legacy.errors import LegacyError
from proxy.mapping.table import Param
from proxy.newapi.emails import normal_email


_LARGEST = 2**53 - 1  # exact in every JSON reader (JavaScript too); page × count still fits 64 bits


def coerce_params(declared: Mapping[str, Param], given: Mapping[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, param in declared.items():
        raw = given.get(name)
        if raw in (None, ""):
            if param.required:
                raise LegacyError(400, f"Missing required parameter: {name}.")
            values[name] = param.default
            continue
        values[name] = _coerce(param, raw)
    _check_window(values)
    return values


def _check_window(values: dict[str, Any]) -> None:
    """A v1 page starts at `page × count`; that index must stay an exact JSON integer too."""
    page, count = values.get("page"), values.get("count")
    if isinstance(page, int) and isinstance(count, int) and page * count > _LARGEST:
        raise LegacyError(400, f"Invalid value for page: page × count must be below {_LARGEST + 1}.")


def _coerce(param: Param, raw: Any) -> Any:
    if param.type == "int":
        return _integer(param, raw)
    if param.type == "enum":
        value = str(raw).strip().lower()
        if value not in param.values:
            raise LegacyError(400, f"Invalid value for {param.name}: must be one of {', '.join(param.values)}.")
        return value
    if param.type == "json":
        if not isinstance(raw, str):
            return raw
        try:
            return exact_json.loads(raw)
        except exact_json.InvalidJson:
            raise LegacyError(400, f"Invalid value for {param.name}: not valid JSON.") from None
    if param.type == "email":  # one spelling of an address on every path (see profile_input)
        return normal_email(str(raw))
    return str(raw)


def _integer(param: Param, raw: Any) -> int:
    try:
        value = int(str(raw).strip())
    except ValueError:
        raise LegacyError(400, f"Invalid value for {param.name}: must be an integer.") from None
    if abs(value) > _LARGEST:
        raise LegacyError(400, f"Invalid value for {param.name}: must be an integer below {_LARGEST + 1}.")
    if param.min is not None and value < param.min:
        raise LegacyError(400, f"Invalid value for {param.name}: must be at least {param.min}.")
    if param.max is not None and value > param.max:
        return param.max  # the legacy API served its maximum rather than failing
    return value
