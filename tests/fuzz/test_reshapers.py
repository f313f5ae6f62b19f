"""Any resource the spec allows Klaviyo to send, the legacy reshapers turn into the
legacy object the contract documents (legacy contract §2): never an exception, always
the documented keys, timestamps in their legacy format, and JSON orjson can write."""

from __future__ import annotations

import re
from typing import Any

import orjson
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from spec_resources import resources

from proxy.shapes.campaign import (
    audience_ids,
    email_message,
    legacy_campaign,
    legacy_recipient,
)
from proxy.shapes.event import legacy_event
from proxy.shapes.exclusion import LEGACY_REASONS, legacy_exclusion
from proxy.shapes.included import index_included, related
from proxy.shapes.lists import list_detail, list_summary
from proxy.shapes.members import (
    check_record,
    list_exclusion,
    member_exclusion,
    member_record,
)
from proxy.shapes.metric import legacy_metric
from proxy.shapes.person import legacy_person
from proxy.shapes.template import legacy_template, rendered_template
from proxy.shapes.v1_list import legacy_v1_list

# No explain phase: on resources this size it costs minutes and says little.
FUZZ = settings(
    max_examples=60,
    derandomize=True,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate, Phase.shrink],
    suppress_health_check=[HealthCheck.too_slow],
)

PERSON_KEYS = {
    "object", "id", "email", "first_name", "last_name", "created", "updated",
    "$email", "$first_name", "$last_name", "$phone_number", "$title", "$organization", "$id",
    "$address1", "$address2", "$city", "$region", "$zip", "$country", "$timezone", "$latitude", "$longitude",
}  # fmt: skip
METRIC_KEYS = {"object", "id", "name", "integration", "created", "updated"}
INTEGRATION_KEYS = {"object", "id", "name", "category"}
EVENT_KEYS = {"object", "id", "uuid", "event_name", "statistic_id", "timestamp", "datetime", "event_properties", "person"}
V1_LIST_KEYS = {"object", "id", "name", "list_type", "folder", "created", "updated", "person_count"}
TEMPLATE_KEYS = {"object", "id", "name", "html", "created", "updated"}
CAMPAIGN_KEYS = {
    "object", "id", "name", "subject", "from_email", "from_name", "lists", "excluded_lists", "template_id", "status",
    "status_id", "status_label", "sent_at", "send_time", "created", "updated", "num_recipients", "is_segmented",
    "campaign_type", "message_type",
}  # fmt: skip
MEMBER_KEYS = {"id", "email", "phone_number"}
LIST_EXCLUSION_KEYS = {"id", "email", "reason", "created", "phone_number", "phone_reason"}

# The legacy contract's time formats (§1.4), "" when the new API does not know.
LEGACY_DATETIME = re.compile(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)?")
EVENT_DATETIME = re.compile(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\+00:00)?")
ISO_Z = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)?")


def assert_written(shaped: Any) -> None:
    """What the proxy sends must survive orjson, as every legacy body goes through it."""
    orjson.dumps(shaped)


def assert_times(shaped: dict[str, Any], pattern: re.Pattern[str], *names: str) -> None:
    for name in names:
        assert pattern.fullmatch(shaped[name]), f"{name}: {shaped[name]!r}"


def assert_person(person: dict[str, Any], profile: dict[str, Any]) -> None:
    attributes = profile.get("attributes") or {}
    properties = attributes.get("properties") or {}
    when_set = {key for key, name in (("$image", "image"), ("$locale", "locale")) if attributes.get(name)}
    assert set(person) == PERSON_KEYS | when_set | set(properties)
    assert person["object"] == "person" and person["id"] == profile["id"]
    assert_times(person, LEGACY_DATETIME, "created", "updated")


def assert_v1_list(shaped: dict[str, Any]) -> None:
    assert set(shaped) == V1_LIST_KEYS and shaped["list_type"] in ("list", "segment")
    assert type(shaped["person_count"]) is int, "legacy readers sum person_count"
    assert_times(shaped, LEGACY_DATETIME, "created", "updated")


@FUZZ
@given(metric=resources("metric"))
def test_metric(metric):
    shaped = legacy_metric(metric)
    assert set(shaped) == METRIC_KEYS and shaped["object"] == "metric"
    assert shaped["integration"] is None or set(shaped["integration"]) == INTEGRATION_KEYS
    assert_times(shaped, LEGACY_DATETIME, "created", "updated")
    assert_written(shaped)


@st.composite
def events_with_includes(draw: st.DrawFn) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """An event and the `included` of its page: its metric and profile when the
    relationships name them (each may be left out, as a sparse include can), plus strays."""
    event = draw(resources("event"))
    included = draw(st.lists(resources("included metric") | resources("included profile"), max_size=2))
    for name in ("metric", "profile"):
        link = ((event.get("relationships") or {}).get(name) or {}).get("data")
        if link and draw(st.booleans()):
            included.append({**draw(resources(f"included {name}")), "id": link["id"]})
    return event, included


@FUZZ
@given(page=events_with_includes())
def test_event_with_included_metric_and_profile(page):
    event, included = page
    index = index_included({"included": included})
    shaped = legacy_event(event, index)
    assert set(shaped) == EVENT_KEYS and shaped["object"] == "event"
    assert isinstance(shaped["timestamp"], int) and isinstance(shaped["event_properties"], dict)
    assert_times(shaped, EVENT_DATETIME, "datetime")
    profile = related(event, "profile", index)
    if profile is None:
        assert shaped["person"] == {"object": "person"}
    else:
        assert_person(shaped["person"], dict(profile))
    assert_written(shaped)


@FUZZ
@given(profile=resources("profile"))
def test_profile(profile):
    shaped = legacy_person(profile)
    assert_person(shaped, profile)
    assert_written(shaped)


@FUZZ
@given(group=resources("list") | resources("segment"), count=st.integers(min_value=0, max_value=2**63 - 1))
def test_list_and_segment(group, count):
    shaped = legacy_v1_list(group, count)
    assert_v1_list(shaped)
    assert_written(shaped)
    assert shaped["person_count"] == count
    if group["type"] == "list":
        assert set(list_summary(group)) == {"list_id", "list_name"}


@FUZZ
@given(group=resources("list detail"))
def test_list_detail(group):
    shaped = list_detail(group)
    assert set(shaped) == {"list_name", "folder_name", "created", "updated"}
    assert_times(shaped, ISO_Z, "created", "updated")
    assert_written(shaped)


@FUZZ
@given(template=resources("template"))
def test_template(template):
    shaped = legacy_template(template)
    assert set(shaped) == TEMPLATE_KEYS and shaped["object"] == "email-template"
    assert_times(shaped, LEGACY_DATETIME, "created", "updated")
    assert_written(shaped)


@FUZZ
@given(template=resources("rendered template"))
def test_rendered_template(template):
    shaped = rendered_template(template)
    assert set(shaped) == {"object", "id", "name", "data"} and set(shaped["data"]) == {"html", "text"}
    assert_written(shaped)


@st.composite
def campaigns(draw: st.DrawFn) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, dict[str, Any]], dict[str, Any] | None]:
    """A campaign, its messages, the lists and segments it names (some deleted) and its template."""
    campaign = draw(resources("campaign"))
    messages = draw(st.lists(resources("campaign-message"), max_size=2))
    groups = {}
    for group_id in audience_ids(campaign):
        if draw(st.booleans()):
            groups[group_id] = legacy_v1_list({**draw(resources("list") | resources("segment")), "id": group_id}, draw(st.integers(min_value=0, max_value=2**31)))
    return campaign, messages, groups, draw(st.none() | resources("message template"))


@FUZZ
@given(parts=campaigns(), with_template=st.booleans())
def test_campaign(parts, with_template):
    campaign, messages, audiences, template = parts
    shaped = legacy_campaign(campaign, email_message(messages), audiences, template, with_template=with_template, recipients=3)
    assert set(shaped) == CAMPAIGN_KEYS | ({"template"} if with_template else set())
    assert shaped["num_recipients"] in (0, 3) and type(shaped["num_recipients"]) is int
    assert shaped["object"] == "campaign" and shaped["campaign_type"] == "Regular"
    for group in shaped["lists"] + shaped["excluded_lists"]:
        assert_v1_list(group)
    assert shaped["send_time"] is None or LEGACY_DATETIME.fullmatch(shaped["send_time"])
    assert_times(shaped, LEGACY_DATETIME, "created", "updated")
    if with_template and shaped["template"] is not None:
        assert set(shaped["template"]) == {"object", "id", "html"}
    assert_written(shaped)


@FUZZ
@given(profile=resources("list member") | resources("segment member"), list_id=st.text(max_size=8))
def test_member_records(profile, list_id):
    for shaped in (member_record(profile), check_record(profile)):
        assert {"id"} <= set(shaped) - {"created"} <= MEMBER_KEYS
        assert_written(shaped)
    assert_times(check_record(profile), ISO_Z, "created")
    assert legacy_recipient(profile, "Sent", None).keys() == {"email", "status", "customer_id", "variation_id"}
    for exclusion in (list_exclusion(profile, list_id), member_exclusion(profile, list_id)):
        assert exclusion is None or {"id"} <= set(exclusion) <= LIST_EXCLUSION_KEYS
        assert_written(exclusion)


@FUZZ
@given(profile=resources("profiles"), reason=st.sampled_from([None, *LEGACY_REASONS]))
def test_global_exclusion(profile, reason):
    shaped = legacy_exclusion(profile, reason)
    if shaped is not None:
        assert set(shaped) == {"object", "email", "reason", "timestamp"} and shaped["reason"] in LEGACY_REASONS.values()
        assert_times(shaped, LEGACY_DATETIME, "timestamp")
    assert_written(shaped)

