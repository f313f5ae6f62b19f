"""Every reshaper a handler-less mapping entry may name (`respond.shape: module.function`).

An explicit table of imports rather than names resolved at run time, so `check` can say
which entry names a shape that does not exist.
"""

from __future__ import annotations

from typing import Any, Callable

from proxy.shapes import event, lists, metric, person, template

Shape = Callable[..., dict[str, Any]]

SHAPES: dict[str, Shape] = {
    "event.legacy_event": event.legacy_event,
    "lists.list_detail": lists.list_detail,
    "lists.list_summary": lists.list_summary,
    "metric.legacy_metric": metric.legacy_metric,
    "person.legacy_person": person.legacy_person,
    "person.profile_id": person.profile_id,
    "template.legacy_template": template.legacy_template,
}
