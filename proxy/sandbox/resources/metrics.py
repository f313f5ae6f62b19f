"""Metrics: GET /api/metrics and GET /api/metrics/{id}."""

from __future__ import annotations

from proxy.sandbox import jsonapi
from proxy.sandbox.filtering import Field, parse_filter, predicate
from proxy.sandbox.jsonapi import Relationship, Resource, View, same_named
from proxy.sandbox.lookup import existing
from proxy.sandbox.pagination import Sort, page_links, paginate
from proxy.sandbox.routing import Call, Reply, RouteTable
from proxy.sandbox.store import Metric

ROUTES = RouteTable()

FIXED_PAGE_SIZE = 200  # get_metrics has no page[size]
INCLUDABLE = frozenset({"flow-triggers"})
FILTERABLE: dict[str, Field[Metric]] = {
    "integration.name": Field(lambda metric: metric.integration.name),
    "integration.category": Field(lambda metric: metric.integration.category),
}
# get_metrics takes no sort; metrics come in creation order.
CREATION_ORDER: Sort[Metric] = Sort("created", lambda metric: (metric.created, metric.id))


def metric_resource(metric: Metric) -> Resource:
    attributes = {
        "name": metric.name,
        "created": jsonapi.isoformat(metric.created),
        "updated": jsonapi.isoformat(metric.updated),
        "integration": same_named(metric.integration, "id", "name", "category"),
    }
    return Resource("metric", metric.id, attributes, (Relationship("flow-triggers", "flow"),))


@ROUTES.route("GET", "/api/metrics")
def get_metrics(call: Call) -> Reply:
    view = View.of(call, INCLUDABLE)
    keep = predicate(parse_filter(call.param("filter")), FILTERABLE)
    ordered = sorted(call.account.metrics, key=CREATION_ORDER.key)
    page = paginate(ordered, CREATION_ORDER, call.param("page[cursor]"), FIXED_PAGE_SIZE, keep)
    resources = [metric_resource(metric) for metric in page.items]
    return Reply(200, jsonapi.collection(resources, view, page_links(call, page)))


@ROUTES.route("GET", "/api/metrics/{id}")
def get_metric(call: Call) -> Reply:
    view = View.of(call, INCLUDABLE)
    metric = existing(call.account.metrics.get, "metric", call.path_params["id"])
    return Reply(200, jsonapi.single(metric_resource(metric), view))
