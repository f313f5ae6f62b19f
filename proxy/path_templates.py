"""Path templates with `{name}` variables, as the mapping table and the new-API client
write them (`/api/v1/person/{person_id}`, `/api/profiles/{id}`): the one pattern for them."""

from __future__ import annotations

import functools
import re
from typing import Callable, Mapping

VARIABLE = re.compile(r"\{([a-z_]+)\}")


def variables(template: str) -> list[str]:
    return VARIABLE.findall(template)


def fill(template: str, values: Mapping[str, str], encode: Callable[[str], str] = str) -> str:
    """The template with each `{name}` replaced by `encode(values[name])`."""
    return VARIABLE.sub(lambda match: encode(values[match.group(1)]), template)


@functools.lru_cache(maxsize=1024)  # asked of every upstream call; the templates are the table's few
def operation_key(method: str, template: str) -> tuple[str, str]:
    """Method and path with variables unnamed: `{id}` and `{list_id}` at one place match."""
    return method.upper(), VARIABLE.sub("{}", template)
