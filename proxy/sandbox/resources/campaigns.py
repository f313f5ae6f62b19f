"""Campaigns: listing (a message channel filter is required), create with inline
messages, read, update and clone; and how campaigns and their messages are rendered and
looked up, which the message and send-job modules share."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timezone
from operator import attrgetter
from typing import Any

from proxy.openapi.datetimes import parse_datetime
from proxy.openapi.filters import Condition
from proxy.sandbox import errors, jsonapi
from proxy.sandbox.campaign_store import Campaign, CampaignMessage
from proxy.sandbox.filtering import Field, as_seconds, parse_filter, predicate
from proxy.sandbox.jsonapi import Relationship, Resource, View, same_named
from proxy.sandbox.pagination import choose_sort, page_links, page_size, paginate, sorts_by
from proxy.sandbox.lookup import existing
from proxy.sandbox.payload import attributes_of, member, path_id, resource_data
from proxy.sandbox.resources.templates import private_copy
from proxy.sandbox.routing import Call, Reply, RouteTable

ROUTES = RouteTable()

ATTRIBUTES = "/data/attributes"
INCLUDABLE = frozenset({"campaign-messages", "tags"})
CHANNEL_FILTER = "messages.channel"
CHANNELS = ("email", "sms", "mobile_push")
STRATEGIES = frozenset({"static", "throttled", "immediate", "smart_send_time"})
DEFAULT_SEND_OPTIONS = {"use_smart_sending": True}
DEFAULT_TRACKING_OPTIONS = {"add_tracking_params": False, "is_tracking_clicks": True, "is_tracking_opens": True}

FILTERABLE: dict[str, Field[Campaign]] = {
    "id": Field(attrgetter("id")),
    "status": Field(attrgetter("status")),
    "archived": Field(attrgetter("archived")),
    "created_at": Field(attrgetter("created"), fold=as_seconds),
    "updated_at": Field(attrgetter("updated"), fold=as_seconds),
    "scheduled_at": Field(attrgetter("scheduled_at"), fold=as_seconds),
}
SORTS = {
    **sorts_by("id", "name", created_at="created", updated_at="updated"),
    # Unscheduled campaigns sort before scheduled ones.
    "scheduled_at": lambda campaign: (campaign.scheduled_at is not None, campaign.scheduled_at or 0, campaign.id),
}


def campaign_resource(campaign: Campaign) -> Resource:
    attributes = {
        **same_named(campaign, "name", "status", "archived"),
        "audiences": {"included": list(campaign.included), "excluded": list(campaign.excluded)},
        "send_options": dict(campaign.send_options),
        "tracking_options": dict(campaign.tracking_options),
        "send_strategy": dict(campaign.send_strategy),
        "created_at": jsonapi.isoformat(campaign.created),
        "scheduled_at": _optional_iso(campaign.scheduled_at),
        "updated_at": jsonapi.isoformat(campaign.updated),
        "send_time": _optional_iso(campaign.send_time),
    }
    relationships = (
        Relationship("campaign-messages", "campaign-message", tuple(campaign.message_ids)),
        Relationship("tags", "tag"),
    )
    return Resource("campaign", campaign.id, attributes, relationships)


def message_resource(message: CampaignMessage, campaign: Campaign) -> Resource:
    attributes = {
        "definition": message.definition,
        "send_times": send_times(campaign),
        "created_at": jsonapi.isoformat(message.created),
        "updated_at": jsonapi.isoformat(message.updated),
    }
    relationships = (
        Relationship("campaign", "campaign", campaign.id),
        Relationship("template", "template", message.template_id or ()),
        Relationship("image", "image"),
    )
    return Resource("campaign-message", message.id, attributes, relationships)


def send_times(campaign: Campaign) -> list[dict[str, Any]]:
    if campaign.send_time is None:
        return []
    return [{"datetime": jsonapi.isoformat(campaign.send_time), "is_local": False}]


def new_message(call: Call, campaign: Campaign, definition: dict[str, Any]) -> CampaignMessage:
    return CampaignMessage(
        id=call.ids.ulid(call.now),
        campaign_id=campaign.id,
        definition=definition,
        template_id=None,
        created=call.now,
        updated=call.now,
    )


def _optional_iso(seconds: float | None) -> str | None:
    return None if seconds is None else jsonapi.isoformat(seconds)


def existing_campaign(call: Call, campaign_id: str) -> Campaign:
    """The campaign, caught up with the sandbox clock, or a 404."""
    campaign = existing(call.account.campaigns.get, "campaign", campaign_id)
    campaign.settle(call.now)
    return campaign


def editable(campaign: Campaign) -> Campaign:
    if campaign.status != "Draft":
        raise errors.invalid(f"Campaign {campaign.id!r} is {campaign.status}; only a draft can be changed.", pointer="/data")
    return campaign


def send_start(strategy: Mapping[str, Any], now: float) -> float:
    """When a send job started now would begin delivering under this strategy."""
    if strategy["method"] in ("static", "throttled"):
        return parse_datetime(strategy["datetime"]).timestamp()
    if strategy["method"] == "smart_send_time":
        day = date.fromisoformat(strategy["date"])
        return datetime.combine(day, time(), tzinfo=timezone.utc).timestamp()
    return now


@ROUTES.route("GET", "/api/campaigns")
def get_campaigns(call: Call) -> Reply:
    view = View.of(call, INCLUDABLE)
    conditions = parse_filter(call.param("filter"))
    channel = _channel(conditions)
    keep_fields = predicate([c for c in conditions if c.field != CHANNEL_FILTER], FILTERABLE)
    store = call.account.campaigns

    def keep(campaign: Campaign) -> bool:
        return keep_fields(campaign) and any(m.channel == channel for m in store.messages_of(campaign))

    for campaign in store:
        campaign.settle(call.now)
    sort = choose_sort(call, SORTS, default="created_at")
    page = paginate(sorted(store, key=sort.key), sort, call.param("page[cursor]"), page_size(call), keep)
    document = jsonapi.collection(
        [campaign_resource(campaign) for campaign in page.items],
        view,
        page_links(call, page),
        _messages_if_included(call, page.items, view),
    )
    return Reply(200, document)


def _channel(conditions: list[Condition]) -> str:
    """Klaviyo lists one channel at a time: the filter must pin it."""
    channels = [c.value for c in conditions if c.field == CHANNEL_FILTER and c.operator == "equals"]
    if len(channels) != 1 or channels[0] not in CHANNELS:
        raise errors.invalid(
            "A channel filter is required: equals(messages.channel,'email'), 'sms' or 'mobile_push'.",
            parameter="filter",
        )
    return str(channels[0])


@ROUTES.route("GET", "/api/campaigns/{id}")
def get_campaign(call: Call) -> Reply:
    view = View.of(call, INCLUDABLE)
    campaign = existing_campaign(call, call.path_params["id"])
    included = _messages_if_included(call, [campaign], view)
    return Reply(200, jsonapi.single(campaign_resource(campaign), view, included))


def _messages_if_included(call: Call, campaigns: list[Campaign], view: View) -> list[Resource]:
    if "campaign-messages" not in view.include:
        return []
    store = call.account.campaigns
    return [message_resource(message, campaign) for campaign in campaigns for message in store.messages_of(campaign)]


@ROUTES.route("POST", "/api/campaigns")
def create_campaign(call: Call) -> Reply:
    attributes = attributes_of(resource_data(call.body, "campaign"))
    name = member(attributes, "name", ATTRIBUTES, str, required=True)
    included, excluded = _audiences(call, attributes, required=True)
    campaign = Campaign(
        id=call.ids.ulid(call.now),
        name=name,
        created=call.now,
        updated=call.now,
        included=included,
        excluded=excluded,
        send_strategy=_strategy(attributes) or {"method": "immediate"},
        send_options={**DEFAULT_SEND_OPTIONS, **(member(attributes, "send_options", ATTRIBUTES, dict) or {})},
        tracking_options={**DEFAULT_TRACKING_OPTIONS, **(member(attributes, "tracking_options", ATTRIBUTES, dict) or {})},
    )
    call.account.campaigns.add(campaign, [new_message(call, campaign, _message_definition(attributes))])
    return _campaign_reply(call, 201, campaign)


@ROUTES.route("PATCH", "/api/campaigns/{id}")
def update_campaign(call: Call) -> Reply:
    data = resource_data(call.body, "campaign")
    campaign = editable(existing_campaign(call, path_id(data, call.path_params["id"])))
    attributes = attributes_of(data)
    campaign.name = member(attributes, "name", ATTRIBUTES, str) or campaign.name
    if member(attributes, "audiences", ATTRIBUTES, dict) is not None:
        # The spec does not say whether a partial audiences object merges; the sandbox
        # takes the stricter reading: it replaces both, so an omitted `excluded` clears them.
        included, excluded = _audiences(call, attributes, required=False)
        campaign.included = included or campaign.included
        campaign.excluded = excluded
    campaign.send_strategy = _strategy(attributes) or campaign.send_strategy
    campaign.send_options.update(member(attributes, "send_options", ATTRIBUTES, dict) or {})
    campaign.tracking_options.update(member(attributes, "tracking_options", ATTRIBUTES, dict) or {})
    campaign.updated = call.now
    return _campaign_reply(call, 200, campaign)


@ROUTES.route("POST", "/api/campaign-clone")
def create_campaign_clone(call: Call) -> Reply:
    """A draft copy with copies of the messages, each with its own copy of the template."""
    data = resource_data(call.body, "campaign")
    source = existing_campaign(call, member(data, "id", "/data", str, required=True))
    attributes = attributes_of(data)
    clone = Campaign(
        id=call.ids.ulid(call.now),
        name=member(attributes, "new_name", ATTRIBUTES, str) or f"Copy of {source.name}",
        created=call.now,
        updated=call.now,
        included=list(source.included),
        excluded=list(source.excluded),
        send_strategy=dict(source.send_strategy),
        send_options=dict(source.send_options),
        tracking_options=dict(source.tracking_options),
    )
    messages = [_copied_message(call, clone, message) for message in call.account.campaigns.messages_of(source)]
    call.account.campaigns.add(clone, messages)
    return _campaign_reply(call, 201, clone)


def _copied_message(call: Call, clone: Campaign, message: CampaignMessage) -> CampaignMessage:
    copy = new_message(call, clone, dict(message.definition))
    template = call.account.templates.get(message.template_id) if message.template_id else None
    copy.template_id = private_copy(call, template).id if template else None
    return copy


def _campaign_reply(call: Call, status: int, campaign: Campaign) -> Reply:
    view = View.of(call)
    return Reply(status, jsonapi.single(campaign_resource(campaign), view))


def _audiences(call: Call, attributes: Mapping[str, Any], *, required: bool) -> tuple[list[str], list[str]]:
    """Included and excluded audiences, each a list or segment of the account."""
    at = f"{ATTRIBUTES}/audiences"
    audiences = member(attributes, "audiences", ATTRIBUTES, dict, required=required) or {}
    included = member(audiences, "included", at, list, required=required) or []
    excluded = member(audiences, "excluded", at, list) or []
    if required and not included:
        raise errors.invalid("At least one included audience is required.", pointer=f"{at}/included")
    account = call.account
    for name, ids in (("included", included), ("excluded", excluded)):
        for index, group_id in enumerate(ids):
            if not isinstance(group_id, str) or (account.lists.get(group_id) or account.segments.get(group_id)) is None:
                raise errors.invalid(f"{group_id!r} is not a list or segment of this account.", pointer=f"{at}/{name}/{index}")
    return list(included), list(excluded)


def _strategy(attributes: Mapping[str, Any]) -> dict[str, Any] | None:
    at = f"{ATTRIBUTES}/send_strategy"
    strategy = member(attributes, "send_strategy", ATTRIBUTES, dict)
    if strategy is None:
        return None
    method = member(strategy, "method", at, str, required=True)
    if method not in STRATEGIES:
        raise errors.invalid(f"'method' must be one of {', '.join(sorted(STRATEGIES))}.", pointer=f"{at}/method")
    moment = {"static": "datetime", "throttled": "datetime", "smart_send_time": "date"}.get(method)
    if moment is not None:
        text = member(strategy, moment, at, str, required=True)
        try:  # read the time as a send job will
            send_start({"method": method, moment: text}, 0.0)
        except ValueError:
            raise errors.invalid(f"{text!r} is not a valid {moment}.", pointer=f"{at}/{moment}") from None
    return dict(strategy)


def _message_definition(attributes: Mapping[str, Any]) -> dict[str, Any]:
    at = f"{ATTRIBUTES}/campaign-messages"
    messages = member(member(attributes, "campaign-messages", ATTRIBUTES, dict, required=True), "data", at, list, required=True)
    if len(messages) != 1 or not isinstance(messages[0], dict):
        raise errors.invalid("A campaign takes exactly one message.", pointer=f"{at}/data")
    message_attributes = member(messages[0], "attributes", f"{at}/data/0", dict, required=True)
    definition = member(message_attributes, "definition", f"{at}/data/0/attributes", dict, required=True)
    if definition.get("channel") not in CHANNELS:
        raise errors.invalid(
            f"'channel' must be one of {', '.join(CHANNELS)}.", pointer=f"{at}/data/0/attributes/definition/channel"
        )
    if not definition.get("label"):
        definition["label"] = attributes["name"]
    return definition
