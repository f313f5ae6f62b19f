"""Campaign send jobs, keyed by the campaign id: queue a send (now, or at the static send
time the campaign's strategy names), and cancel or revert it."""

from __future__ import annotations

from collections.abc import Callable

from proxy.sandbox import errors, jsonapi
from proxy.sandbox.campaign_store import Campaign, InvalidTransition
from proxy.sandbox.jsonapi import Resource, View
from proxy.sandbox.payload import attributes_of, member, path_id, resource_data
from proxy.sandbox.resources.campaigns import existing_campaign, send_start
from proxy.sandbox.routing import Call, Reply, RouteTable

ROUTES = RouteTable()

JOB_TYPE = "campaign-send-job"
ACTIONS = ("cancel", "revert")
REQUIRED_EMAIL_CONTENT = ("subject", "from_email")


@ROUTES.route("POST", "/api/campaign-send-jobs")
def send_campaign(call: Call) -> Reply:
    campaign = existing_campaign(call, member(resource_data(call.body, JOB_TYPE), "id", "/data", str, required=True))
    _ready_to_send(call, campaign)
    start_at = send_start(campaign.send_strategy, call.now)
    if start_at < call.now and campaign.send_strategy["method"] != "immediate":
        raise errors.invalid("The campaign's send time is in the past.", pointer="/data/id")
    _transition(lambda: campaign.queue_send(call.now, start_at))
    job = Resource(JOB_TYPE, campaign.id, {"status": "queued"})
    view = View.of(call)
    return Reply(202, jsonapi.single(job, view))


def _ready_to_send(call: Call, campaign: Campaign) -> None:
    for message in call.account.campaigns.messages_of(campaign):
        if not message.template_id:
            raise errors.invalid(f"Campaign message {message.id!r} has no template.", pointer="/data/id")
        content = message.definition.get("content") or {}
        missing = [name for name in REQUIRED_EMAIL_CONTENT if message.channel == "email" and not content.get(name)]
        if missing:
            raise errors.invalid(f"Campaign message {message.id!r} needs {' and '.join(missing)}.", pointer="/data/id")


@ROUTES.route("PATCH", "/api/campaign-send-jobs/{id}")
def cancel_campaign_send(call: Call) -> Reply:
    """`cancel` stops a scheduled or sending campaign for good; `revert` returns a scheduled one to draft."""
    data = resource_data(call.body, JOB_TYPE)
    body_id = path_id(data, call.path_params["id"])
    action = member(attributes_of(data), "action", "/data/attributes", str, required=True)
    if action not in ACTIONS:
        raise errors.invalid("'action' must be cancel or revert.", pointer="/data/attributes/action")
    campaign = existing_campaign(call, body_id)
    if campaign.job_status is None:
        raise errors.invalid(f"Campaign {campaign.id!r} is a draft: it has no send job.", pointer="/data/id")
    _transition(lambda: campaign.cancel(call.now) if action == "cancel" else campaign.revert(call.now))
    return Reply(204)


def _transition(step: Callable[[], None]) -> None:
    try:
        step()
    except InvalidTransition as refused:
        raise errors.invalid(str(refused), pointer="/data") from None
