"""Segments, read-only: GET /api/segments, /api/segments/{id} and their members."""

from __future__ import annotations

from operator import attrgetter
from typing import Any

from proxy.sandbox import jsonapi
from proxy.sandbox.filtering import Field, parse_filter, predicate
from proxy.sandbox.groups import Segment
from proxy.sandbox.jsonapi import Resource, View
from proxy.sandbox.lookup import existing
from proxy.sandbox.pagination import choose_sort, page_links, page_size, paginate
from proxy.sandbox.resources.lists import (
    GROUP_FILTERABLE,
    GROUP_SORTS,
    INCLUDABLE,
    group_profiles,
    group_relationships,
    live_member_count,
)
from proxy.sandbox.routing import Call, Reply, RouteTable

ROUTES = RouteTable()

FILTERABLE: dict[str, Field[Any]] = {
    **GROUP_FILTERABLE,
    "is_active": Field(attrgetter("is_active")),
    "is_starred": Field(attrgetter("is_starred")),
}


def segment_resource(segment: Segment, profile_count: int | None = None) -> Resource:
    attributes: dict[str, Any] = {
        "name": segment.name,
        "definition": segment.definition,
        "created": jsonapi.isoformat(segment.created),
        "updated": jsonapi.isoformat(segment.updated),
        "is_active": segment.is_active,
        "is_processing": False,  # membership is given, never being recomputed
        "is_starred": segment.is_starred,
    }
    if profile_count is not None:
        attributes["profile_count"] = profile_count
    return Resource("segment", segment.id, attributes, group_relationships())


@ROUTES.route("GET", "/api/segments")
def get_segments(call: Call) -> Reply:
    view = View.of(call, INCLUDABLE)
    keep = predicate(parse_filter(call.param("filter")), FILTERABLE)
    sort = choose_sort(call, GROUP_SORTS, default="id")
    ordered = sorted(call.account.segments, key=sort.key)
    page = paginate(ordered, sort, call.param("page[cursor]"), page_size(call), keep)
    resources = [segment_resource(segment) for segment in page.items]
    return Reply(200, jsonapi.collection(resources, view, page_links(call, page)))


@ROUTES.route("GET", "/api/segments/{id}")
def get_segment(call: Call) -> Reply:
    view = View.of(call, INCLUDABLE)
    segment = _existing(call)
    wants_count = view.wants("segment", "profile_count")
    count = live_member_count(segment, call.account.profiles) if wants_count else None
    return Reply(200, jsonapi.single(segment_resource(segment, count), view))


@ROUTES.route("GET", "/api/segments/{id}/profiles")
def get_profiles_for_segment(call: Call) -> Reply:
    return group_profiles(call, _existing(call))


def _existing(call: Call) -> Segment:
    return existing(call.account.segments.get, "segment", call.path_params["id"])
