"""What lists, segments and templates share: each is a named record with creation and
update times, and Klaviyo filters and sorts all three by the same four fields."""

from __future__ import annotations

from operator import attrgetter
from typing import Any

from proxy.sandbox.filtering import Field, as_seconds
from proxy.sandbox.pagination import sorts_by

FILTERABLE: dict[str, Field[Any]] = {
    "id": Field(attrgetter("id")),
    "name": Field(attrgetter("name")),
    "created": Field(attrgetter("created"), fold=as_seconds),
    "updated": Field(attrgetter("updated"), fold=as_seconds),
}
SORTS = sorts_by("id", "name", "created", "updated")
