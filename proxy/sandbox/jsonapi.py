"""JSON:API documents as Klaviyo writes them: resources with full-URL links, sparse
fieldsets (dotted paths reach into nested attributes), relationships and `included`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlencode

from proxy.sandbox import errors
from proxy.sandbox.routing import Call

MEDIA_TYPE = "application/vnd.api+json"


def isoformat(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, timezone.utc).isoformat()


@dataclass(frozen=True, slots=True)
class Relationship:
    name: str
    type: str
    # to-one: the related id (always rendered); to-many: the ids, rendered when included.
    linkage: str | tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Resource:
    type: str
    id: str
    attributes: dict[str, Any]
    relationships: tuple[Relationship, ...] = ()


@dataclass(frozen=True, slots=True)
class View:
    """How the caller asked to see resources: `fields[…]`, `include`, `additional-fields[…]`."""

    base_url: str
    fields: Mapping[str, frozenset[str]] = field(default_factory=dict)
    include: frozenset[str] = frozenset()
    additional: Mapping[str, frozenset[str]] = field(default_factory=dict)

    @classmethod
    def of(cls, call: Call, includable: frozenset[str] = frozenset()) -> View:
        include = frozenset(call.csv("include"))
        if not include <= includable:
            unknown = ", ".join(sorted(include - includable))
            raise errors.invalid(f"Cannot include {unknown}.", parameter="include")
        return cls(
            base_url=call.base_url,
            fields=_families(call, "fields"),
            include=include,
            additional=_families(call, "additional-fields"),
        )

    def wants(self, resource_type: str, additional_field: str) -> bool:
        return additional_field in self.additional.get(resource_type, ())


def _families(call: Call, family: str) -> dict[str, frozenset[str]]:
    """`fields[profile]=email,location.city` -> {"profile": {"email", "location.city"}}."""
    prefix = family + "["
    return {
        key[len(prefix) : -1]: frozenset(call.csv(key))
        for key, _ in call.query
        if key.startswith(prefix) and key.endswith("]")
    }


def same_named(record: Any, *names: str) -> dict[str, Any]:
    """Attributes that are the record's fields of the same names, as they are."""
    return {name: getattr(record, name) for name in names}


def render(resource: Resource, view: View, *, primary: bool = False) -> dict[str, Any]:
    """One resource object. Only primary data answers to `include` with to-many linkage."""
    self_url = f"{view.base_url}/api/{_collection(resource.type)}/{resource.id}"
    rendered: dict[str, Any] = {
        "type": resource.type,
        "id": resource.id,
        "attributes": _sparse(resource.attributes, view.fields.get(resource.type)),
    }
    if resource.relationships:
        rendered["relationships"] = {
            relationship.name: _relationship(relationship, self_url, primary and relationship.name in view.include)
            for relationship in resource.relationships
        }
    rendered["links"] = {"self": self_url}
    return rendered


def _collection(resource_type: str) -> str:
    # Every Klaviyo resource type pluralises with an "s" in its path (push-token -> push-tokens).
    return resource_type + "s"


def _relationship(relationship: Relationship, owner_url: str, included: bool) -> dict[str, Any]:
    rendered: dict[str, Any] = {}
    if isinstance(relationship.linkage, str):
        rendered["data"] = {"type": relationship.type, "id": relationship.linkage}
    elif included:
        rendered["data"] = [{"type": relationship.type, "id": id_} for id_ in relationship.linkage]
    rendered["links"] = {
        "self": f"{owner_url}/relationships/{relationship.name}",
        "related": f"{owner_url}/{relationship.name}",
    }
    return rendered


def _sparse(attributes: dict[str, Any], wanted: frozenset[str] | None) -> dict[str, Any]:
    if wanted is None:
        return attributes
    kept: dict[str, Any] = {}
    for name, value in attributes.items():
        if name in wanted:
            kept[name] = value
            continue
        prefix = name + "."
        nested = frozenset(path[len(prefix) :] for path in wanted if path.startswith(prefix))
        if nested and isinstance(value, dict):
            kept[name] = _sparse(value, nested)
    return kept


def single(resource: Resource, view: View, included: Iterable[Resource] = ()) -> dict[str, Any]:
    data = render(resource, view, primary=True)
    return {"data": data, **_included(included, view), "links": {"self": data["links"]["self"]}}


def collection(
    resources: Iterable[Resource],
    view: View,
    links: dict[str, str],
    included: Iterable[Resource] = (),
) -> dict[str, Any]:
    data = [render(resource, view, primary=True) for resource in resources]
    return {"data": data, **_included(included, view), "links": links}


def _included(resources: Iterable[Resource], view: View) -> dict[str, Any]:
    if not view.include:
        return {}
    unique = {(resource.type, resource.id): resource for resource in resources}
    return {"included": [render(resource, view) for resource in unique.values()]}


def request_url(call: Call, replace: Mapping[str, str] | None = None) -> str:
    """The full URL of the call, with query parameters replaced or added (for `links`)."""
    replace = replace or {}
    query = [(key, value) for key, value in call.query if key not in replace]
    query += replace.items()
    return call.base_url + call.path + (f"?{urlencode(query)}" if query else "")
