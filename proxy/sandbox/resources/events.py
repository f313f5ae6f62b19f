"""Events: reads, and recording through POST /api/events and POST /client/events."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta, timezone
from operator import attrgetter
from typing import Any

from proxy.openapi.datetimes import parse_datetime
from proxy.openapi.filters import Condition
from proxy.sandbox import errors, identity, jsonapi
from proxy.sandbox.filtering import ORDERINGS, Field, as_number, as_seconds, parse_filter, predicate
from proxy.sandbox.jsonapi import Relationship, Resource, View
from proxy.sandbox.pagination import choose_sort, page_links, page_size, paginate
from proxy.sandbox.payload import NUMBER, member, resource_data
from proxy.sandbox.resources.metrics import metric_resource
from proxy.sandbox.resources.profiles import profile_resource
from proxy.sandbox.routing import Call, Reply, Route
from proxy.sandbox.store import Account, Event, Integration, Metric

ATTRIBUTES = "/data/attributes"
INCLUDABLE = frozenset({"attributions", "metric", "profile"})
# Metrics of events sent through the API belong to the API integration.
API_INTEGRATION_NAME = "API"
MAX_METRIC_NAME = 127
EARLIEST = datetime(1990, 1, 1, tzinfo=timezone.utc)
LATEST_AHEAD = timedelta(days=365)

FILTERABLE: dict[str, Field[Event]] = {
    "metric_id": Field(attrgetter("metric_id")),
    "profile_id": Field(attrgetter("profile_id")),
    "metric": Field(attrgetter("metric_id")),  # has(metric)
    "profile": Field(attrgetter("profile_id")),  # has(profile)
    "datetime": Field(attrgetter("timestamp"), fold=as_seconds),
    "timestamp": Field(attrgetter("timestamp"), fold=as_number),
}
PINNABLE = frozenset({"metric_id", "profile_id"})  # filter fields the store indexes
TIME_FIELDS = frozenset({"datetime", "timestamp"})
# datetime and timestamp are the same instant, so both sort by the stored order.
SORTS = {"datetime": attrgetter("order"), "timestamp": attrgetter("order")}


def event_resource(event: Event) -> Resource:
    return Resource(
        type="event",
        id=event.id,
        attributes={
            "timestamp": event.timestamp,
            "event_properties": event.event_properties,
            "datetime": jsonapi.isoformat(event.timestamp),
            "uuid": event.uuid,
        },
        relationships=(
            Relationship("profile", "profile", event.profile_id),
            Relationship("metric", "metric", event.metric_id),
            Relationship("attributions", "attribution"),
        ),
    )


def get_events(call: Call) -> Reply:
    view = View.of(call, INCLUDABLE)
    conditions = parse_filter(call.param("filter"))
    keep = predicate(conditions, FILTERABLE)  # first: it rejects values _candidates could not read
    sort = choose_sort(call, SORTS, default="timestamp")
    page = paginate(_candidates(call.account, conditions), sort, call.param("page[cursor]"), page_size(call), keep)
    resources = [event_resource(event) for event in page.items]
    included = _related(call.account, page.items, view)
    return Reply(200, jsonapi.collection(resources, view, page_links(call, page), included))


def _candidates(account: Account, conditions: list[Condition]) -> Sequence[Event]:
    """The events a page may come from: the metric's or profile's own index when the filter
    pins one, cut to the seconds its time comparisons allow. The filter still runs on each."""
    pinned: dict[str, str] = {}
    first, last = -math.inf, math.inf
    for condition in conditions:
        if condition.operator == "equals" and condition.field in PINNABLE and isinstance(condition.value, str):
            pinned = {condition.field: condition.value}
        elif condition.field in TIME_FIELDS and condition.operator in ORDERINGS:
            seconds = FILTERABLE[condition.field].fold(condition.value)
            if condition.operator.startswith("greater"):
                first = max(first, math.floor(seconds))
            else:
                last = min(last, math.ceil(seconds))
    return account.events.ordered(**pinned, first=first, last=last)


def get_event(call: Call) -> Reply:
    view = View.of(call, INCLUDABLE)
    event = call.account.events.get(call.path_params["id"])
    if event is None:
        raise errors.not_found(f"Event {call.path_params['id']!r} does not exist.")
    return Reply(200, jsonapi.single(event_resource(event), view, _related(call.account, [event], view)))


def _related(account: Account, events: Sequence[Event], view: View) -> list[Resource]:
    """The included metrics and profiles, each once however many events share it."""
    related: list[Resource] = []
    if "metric" in view.include:
        metrics = map(account.metrics.get, dict.fromkeys(event.metric_id for event in events))
        related += [metric_resource(metric) for metric in metrics if metric is not None]
    if "profile" in view.include:
        profiles = map(account.profiles.get, dict.fromkeys(event.profile_id for event in events))
        related += [profile_resource(profile, view) for profile in profiles if profile is not None]
    return related


def create_event(call: Call) -> Reply:
    """Record an event; 202 with no body whether it was stored or dropped as a duplicate."""
    attributes = member(resource_data(call.body, "event"), "attributes", "/data", dict, required=True)
    timestamp = _timestamp(attributes, call.now)
    unique_id = member(attributes, "unique_id", ATTRIBUTES, str)
    properties = _event_properties(attributes)
    metric_name = _metric_name(attributes)
    profile_data = _nested_data(attributes, "profile")
    profile = identity.identify(call.account.profiles, profile_data, f"{ATTRIBUTES}/profile/data", call.ids, call.now)
    metric = _api_metric(call, metric_name)
    event = Event(
        id=call.ids.ulid(timestamp),
        metric_id=metric.id,
        profile_id=profile.id,
        timestamp=timestamp,
        uuid=call.ids.uuid(),
        event_properties=properties,
        unique_id=unique_id if unique_id is not None else str(timestamp),
    )
    if call.account.events.add(event):
        profile.last_event_date = max(profile.last_event_date or timestamp, timestamp)
    return Reply(202)


def _timestamp(attributes: Mapping[str, Any], now: float) -> int:
    """The event time in whole seconds; receive time when absent."""
    text = member(attributes, "time", ATTRIBUTES, str)
    if text is None:
        return int(now)
    try:
        moment = parse_datetime(text)
    except ValueError:
        raise errors.invalid(f"{text!r} is not an ISO 8601 datetime.", pointer=f"{ATTRIBUTES}/time") from None
    latest = datetime.fromtimestamp(now, timezone.utc) + LATEST_AHEAD
    if not EARLIEST < moment <= latest:
        raise errors.invalid(
            "Event time must be after 1990-01-01 and no more than a year in the future.",
            pointer=f"{ATTRIBUTES}/time",
        )
    return int(moment.timestamp())


def _event_properties(attributes: Mapping[str, Any]) -> dict[str, Any]:
    """The caller's properties plus the reserved `$` keys Klaviyo stores the extras under.

    `unique_id` is not among them: the spec describes it as a de-duplication key and never
    shows it in an event read, so the sandbox does not echo it (the stricter reading; a
    client that wants its id back must keep it in the properties).
    """
    properties = dict(member(attributes, "properties", ATTRIBUTES, dict, required=True))
    reserved = {
        "$value": member(attributes, "value", ATTRIBUTES, NUMBER),
        "$value_currency": member(attributes, "value_currency", ATTRIBUTES, str),
    }
    return properties | {key: value for key, value in reserved.items() if value is not None}


def _nested_data(attributes: Mapping[str, Any], name: str) -> dict[str, Any]:
    """`attributes.<name>.data`, the resource object an event embeds."""
    wrapper = member(attributes, name, ATTRIBUTES, dict, required=True)
    return member(wrapper, "data", f"{ATTRIBUTES}/{name}", dict, required=True)


def _metric_name(attributes: Mapping[str, Any]) -> str:
    at = f"{ATTRIBUTES}/metric/data"
    metric_attributes = member(_nested_data(attributes, "metric"), "attributes", at, dict, required=True)
    name = member(metric_attributes, "name", f"{at}/attributes", str, required=True)
    if not 0 < len(name) <= MAX_METRIC_NAME:
        raise errors.invalid(
            f"Metric name must be 1 to {MAX_METRIC_NAME} characters.", pointer=f"{at}/attributes/name"
        )
    return name


def _api_metric(call: Call, name: str) -> Metric:
    """The API integration's metric of this name, created on first use."""
    metrics = call.account.metrics
    metric = metrics.find(name, API_INTEGRATION_NAME)
    if metric is None:
        integration = metrics.integration(API_INTEGRATION_NAME) or Integration(
            id=call.ids.short(), name=API_INTEGRATION_NAME, category="API"
        )
        metric = Metric(id=call.ids.short(), name=name, integration=integration, created=call.now, updated=call.now)
        metrics.add(metric)
    return metric


ROUTES = (
    Route("GET", "/api/events", "get_events", get_events),
    Route("GET", "/api/events/{id}", "get_event", get_event),
    Route("POST", "/api/events", "create_event", create_event),
    Route("POST", "/client/events", "create_client_event", create_event),
)
