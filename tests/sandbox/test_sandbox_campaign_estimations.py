"""A campaign's recipient estimation: unique emailable members of its included audiences
and of no excluded one; frozen at the send time once the campaign has gone out."""

from __future__ import annotations

import pytest

from proxy.sandbox.seed import DEMO_PUBLIC_KEY
from proxy.sandbox.store import Profile, Suppression


def campaign_named(sandbox, name: str):
    return next(c for c in sandbox.account(DEMO_PUBLIC_KEY).campaigns if c.name == name)


def emailable_audience(account, campaign) -> set[str]:
    def members(ids):
        groups = [account.lists.get(i) or account.segments.get(i) for i in ids]
        return {m.profile_id for group in groups if group for m in group.members.ordered()}

    profiles = [account.profiles.get(i) for i in members(campaign.included) - members(campaign.excluded)]
    return {p.id for p in profiles if p and p.email and not p.subscriptions.email_suppressions}


async def test_the_estimate_counts_the_audience_and_freezes_at_the_send(demo, seeded):
    account = seeded.account(DEMO_PUBLIC_KEY)
    draft = campaign_named(seeded, "Weekend sale")
    answer = await demo.get(f"/api/campaign-recipient-estimations/{draft.id}")
    assert answer.status == 200, answer.json
    assert answer.data["type"] == "campaign-recipient-estimation" and answer.data["id"] == draft.id
    assert answer.data["attributes"]["estimated_recipient_count"] == len(emailable_audience(account, draft)) > 0

    sent = campaign_named(seeded, "Spring launch")
    before = (await demo.get(f"/api/campaign-recipient-estimations/{sent.id}")).data["attributes"]["estimated_recipient_count"]
    newsletter = account.lists.get(sent.included[0])
    late = Profile("01LATEJOINER000000000000000", 0.0, 0.0, email="late@example.com")
    account.profiles.add(late)
    newsletter.members.add(late.id, sent.send_time + 1)
    first = account.profiles.get(newsletter.members.ordered()[0].profile_id)
    first.subscriptions.email_suppressions.append(Suppression("UNSUBSCRIBE", sent.send_time + 1))
    after = (await demo.get(f"/api/campaign-recipient-estimations/{sent.id}")).data["attributes"]["estimated_recipient_count"]
    assert after == before, "who joined or unsubscribed after the send does not change who it reached"


async def test_an_unknown_campaign_has_no_estimate(demo):
    assert (await demo.get("/api/campaign-recipient-estimations/01NOSUCHCAMPAIGN00000000000")).status == 404
