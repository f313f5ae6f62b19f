"""Campaign messages: a campaign's messages (with their templates), editing one, and
assigning a template, which attaches a private copy rather than the template itself."""

from __future__ import annotations

from typing import Any

from proxy.sandbox import errors, jsonapi
from proxy.sandbox.campaign_store import Campaign, CampaignMessage
from proxy.sandbox.jsonapi import Relationship, Resource, View
from proxy.sandbox.lookup import existing
from proxy.sandbox.payload import attributes_of, member, resource_data
from proxy.sandbox.resources.campaigns import (
    campaign_resource,
    editable,
    existing_campaign,
    message_resource,
    send_times,
)
from proxy.sandbox.resources.templates import existing_template, private_copy, template_resource
from proxy.sandbox.routing import Call, Reply, RouteTable

ROUTES = RouteTable()

INCLUDABLE = frozenset({"campaign", "image", "template"})
DEFINITION = "/data/attributes/definition"
MESSAGE_TYPE = "campaign-message"


@ROUTES.route("GET", "/api/campaigns/{id}/campaign-messages")
def get_messages_for_campaign(call: Call) -> Reply:
    view = View.of(call, INCLUDABLE)
    campaign = existing_campaign(call, call.path_params["id"])
    messages = call.account.campaigns.messages_of(campaign)
    resources = [message_resource(message, campaign) for message in messages]
    included = _related(call, campaign, messages, view)
    return Reply(200, jsonapi.collection(resources, view, {"self": jsonapi.request_url(call)}, included))


def _related(call: Call, campaign: Campaign, messages: list[CampaignMessage], view: View) -> list[Resource]:
    related = [campaign_resource(campaign)] if "campaign" in view.include else []
    if "template" in view.include:
        templates = (call.account.templates.get(message.template_id) for message in messages if message.template_id)
        related += [template_resource(template) for template in templates if template is not None]
    return related


@ROUTES.route("PATCH", "/api/campaign-messages/{id}")
def update_campaign_message(call: Call) -> Reply:
    data = resource_data(call.body, MESSAGE_TYPE)
    message = _existing_message(call, member(data, "id", "/data", str, required=True))
    if message.id != call.path_params["id"]:
        raise errors.invalid(f"'{message.id}' does not match the id in the path.", pointer="/data/id")
    campaign = editable(existing_campaign(call, message.campaign_id))
    attributes = attributes_of(data)
    change = member(attributes, "definition", "/data/attributes", dict)
    if change is not None:
        message.definition = _merged(message, change)
        message.updated = campaign.updated = call.now
    view = View.of(call)
    return Reply(200, jsonapi.single(message_resource(message, campaign), view))


def _merged(message: CampaignMessage, change: dict[str, Any]) -> dict[str, Any]:
    """Named fields replace the stored ones, `content` as a whole: the spec does not say
    that a partial content merges, so the sandbox takes the stricter reading and a field
    left out of a new `content` is gone."""
    if change.get("channel") != message.channel:
        raise errors.invalid(f"A {message.channel} message keeps its channel.", pointer=f"{DEFINITION}/channel")
    content = member(change, "content", DEFINITION, dict)
    kept = {name: value for name, value in change.items() if name != "content" and value is not None}
    replaced = {"content": content} if content is not None else {}
    return {**message.definition, **kept, **replaced}


@ROUTES.route("POST", "/api/campaign-message-assign-template")
def assign_template_to_campaign_message(call: Call) -> Reply:
    data = resource_data(call.body, MESSAGE_TYPE)
    message = _existing_message(call, member(data, "id", "/data", str, required=True))
    campaign = editable(existing_campaign(call, message.campaign_id))
    at = "/data/relationships/template"
    relationships = member(data, "relationships", "/data", dict, required=True)
    linkage = member(member(relationships, "template", "/data/relationships", dict, required=True), "data", at, dict, required=True)
    source = existing_template(call, member(linkage, "id", f"{at}/data", str, required=True), pointer=f"{at}/data/id")
    if message.template_id:
        call.account.templates.remove(message.template_id)  # the previous private copy
    message.template_id = private_copy(call, source).id
    message.updated = campaign.updated = call.now
    view = View.of(call)
    return Reply(200, jsonapi.single(_assigned_resource(message, campaign), view))


def _assigned_resource(message: CampaignMessage, campaign: Campaign) -> Resource:
    """This operation still answers in the flat message shape of older revisions."""
    definition = message.definition
    attributes: dict[str, Any] = {
        "label": definition.get("label") or "",
        "channel": message.channel,
        "content": definition.get("content") or {},
        "send_times": send_times(campaign),
        "created_at": jsonapi.isoformat(message.created),
        "updated_at": jsonapi.isoformat(message.updated),
    }
    if "render_options" in definition:
        attributes["render_options"] = definition["render_options"]
    relationships = (
        Relationship("campaign", "campaign", campaign.id),
        Relationship("template", "template", message.template_id or ()),
    )
    return Resource(MESSAGE_TYPE, message.id, attributes, relationships)


def _existing_message(call: Call, message_id: str) -> CampaignMessage:
    return existing(call.account.campaigns.message, "campaign message", message_id)
