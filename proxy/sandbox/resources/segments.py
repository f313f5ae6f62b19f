"""Segments, read-only: GET /api/segments, /api/segments/{id} and their members."""

from __future__ import annotations

from operator import attrgetter
from typing import Any

from proxy.sandbox import jsonapi
from proxy.sandbox.filtering import Field
from proxy.sandbox.groups import Segment
from proxy.sandbox.jsonapi import Resource
from proxy.sandbox.lookup import existing
from proxy.sandbox.resources import named
from proxy.sandbox.resources.lists import group_page, group_profiles, group_relationships, one_group
from proxy.sandbox.routing import Call, Reply, RouteTable

ROUTES = RouteTable()

FILTERABLE: dict[str, Field[Any]] = {
    **named.FILTERABLE,
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
    return group_page(call, call.account.segments, FILTERABLE, segment_resource)


@ROUTES.route("GET", "/api/segments/{id}")
def get_segment(call: Call) -> Reply:
    return one_group(call, "segment", _existing, segment_resource)


@ROUTES.route("GET", "/api/segments/{id}/profiles")
def get_profiles_for_segment(call: Call) -> Reply:
    return group_profiles(call, _existing(call))


def _existing(call: Call) -> Segment:
    return existing(call.account.segments.get, "segment", call.path_params["id"])
