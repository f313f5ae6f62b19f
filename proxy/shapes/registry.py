"""Every reshaper a handler-less mapping entry may name (`respond.shape: module.function`),
and every conversion a body reference may name (`"{params.send_time|utc_time}"`).

Explicit tables of imports rather than names resolved at run time, so `check` can say
which entry names a shape or conversion that does not exist.
"""

from __future__ import annotations

from typing import Any, Callable

from proxy.shapes import campaign, conversions, event, lists, members, metric, person, template

Shape = Callable[..., dict[str, Any]]
Conversion = Callable[[Any, str], Any]

SHAPES: dict[str, Shape] = {
    "campaign.queued": campaign.queued,
    "event.legacy_event": event.legacy_event,
    "lists.list_detail": lists.list_detail,
    "lists.list_summary": lists.list_summary,
    "lists.new_list_id": lists.new_list_id,
    "members.check_record": members.check_record,
    "metric.legacy_metric": metric.legacy_metric,
    "person.legacy_person": person.legacy_person,
    "person.profile_id": person.profile_id,
    "template.legacy_template": template.legacy_template,
    "template.rendered_template": template.rendered_template,
}

CONVERSIONS: dict[str, Conversion] = {
    "json_object": conversions.json_object,
    "utc_time": conversions.utc_time,
}
