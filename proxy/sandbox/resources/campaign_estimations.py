"""A campaign's recipient estimation: GET /api/campaign-recipient-estimations/{id}.

The spec says only "the estimated number of unique recipients the campaign will send
to", refreshed by a recipient-estimation job. Assumptions, the stricter where it is silent:
- the estimate counts unique profiles with an email address that are members of an
  included list or segment and of no excluded one, and whose email is not globally
  suppressed (a suppression stops marketing email whatever the consent);
- once a campaign has started sending, the estimate is frozen at its send time: only
  memberships and suppressions from before the send count, which is exactly who it
  reached. Before that it follows the audiences as they are now (the sandbox refreshes
  the estimate at once; Klaviyo may lag until a job runs).
"""

from __future__ import annotations

from proxy.sandbox import jsonapi
from proxy.sandbox.campaign_store import Campaign
from proxy.sandbox.jsonapi import Resource, View
from proxy.sandbox.resources.campaigns import existing_campaign
from proxy.sandbox.routing import Call, Reply, RouteTable
from proxy.sandbox.store import Account

ROUTES = RouteTable()

STARTED = frozenset({"Sending", "Sent"})


@ROUTES.route("GET", "/api/campaign-recipient-estimations/{id}")
def get_campaign_recipient_estimation(call: Call) -> Reply:
    campaign = existing_campaign(call, call.path_params["id"])
    count = estimated_recipients(call.account, campaign)
    resource = Resource("campaign-recipient-estimation", campaign.id, {"estimated_recipient_count": count})
    return Reply(200, jsonapi.single(resource, View.of(call, frozenset())))


def estimated_recipients(account: Account, campaign: Campaign) -> int:
    at = campaign.send_time if campaign.status in STARTED and campaign.send_time is not None else None

    def members(group_ids: list[str]) -> set[str]:
        found: set[str] = set()
        for group_id in group_ids:
            group = account.lists.get(group_id) or account.segments.get(group_id)
            if group is not None:
                found |= {m.profile_id for m in group.members.ordered() if at is None or m.joined < at}
        return found

    reached = 0
    for profile_id in members(campaign.included) - members(campaign.excluded):
        profile = account.profiles.get(profile_id)
        if profile is None or not profile.email:
            continue
        if not any(at is None or s.timestamp <= at for s in profile.subscriptions.email_suppressions):
            reached += 1
    return reached
