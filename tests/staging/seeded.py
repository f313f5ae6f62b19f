"""Real ids from the demo sandbox for the placeholders in mapping examples and migration
snippets, so a sample request or a snippet reaches seeded data instead of a 404."""

from __future__ import annotations

from proxy.sandbox.store import Account


def seeded_ids(account: Account) -> dict[str, str]:
    """By the name of what an id stands for: legacy path variables and snippet placeholders."""
    lists = {group.name: group.id for group in account.lists}
    segments = {group.name: group.id for group in account.segments}
    campaigns = {campaign.status: campaign for campaign in account.campaigns}
    draft = campaigns["Draft"]
    reusable = next(template for template in account.templates if template.reusable)
    ada = next(profile for profile in account.profiles if profile.first_name == "Ada")
    metric = next(metric for metric in account.metrics if metric.name == "Placed Order")
    return {
        "list_id": lists["Newsletter"],
        "single_opt_in_list_id": lists["VIP Customers"],
        "segment_id": segments["Pro plan"],
        "group_id": lists["Newsletter"],
        "campaign_id": draft.id,
        "sent_campaign_id": campaigns["Sent"].id,
        "scheduled_campaign_id": campaigns["Scheduled"].id,
        "public_key": account.public_key,
        "campaign_message_id": account.campaigns.messages_of(draft)[0].id,
        "template_id": reusable.id,
        "person_id": ada.id,
        "profile_email": ada.email,
        "kx": ada.kx,
        "metric_id": metric.id,
    }


def placeholder_values(account: Account) -> dict[str, str]:
    """Values for the id placeholders of migration snippets (`PROFILE_ID`, `LIST_ID`, …)."""
    ids = seeded_ids(account)
    # Someone on the newsletter and in the "Pro plan" segment, so membership checks find them.
    newsletter = next(group for group in account.lists if group.id == ids["list_id"])
    segment = next(group for group in account.segments if group.id == ids["segment_id"])
    member = next(
        profile for profile in account.profiles if profile.id in segment.members and profile.id in newsletter.members
    )
    return {
        "PROFILE_ID": ids["person_id"],
        "EMAIL": member.email,
        "KX": ids["kx"],
        "METRIC_ID": ids["metric_id"],
        "LIST_ID": ids["list_id"],
        "SEGMENT_ID": ids["segment_id"],
        "CAMPAIGN_ID": ids["campaign_id"],
        "TEMPLATE_ID": ids["template_id"],
        "SENDER_EMAIL": "news@shop.example.com",
    }


# The made-up ids the mapping examples use, and the seeded id each stands for.
EXAMPLE_IDS = {
    "LstAbc": "list_id",
    "Y6nRLr": "list_id",
    "SegAbc": "segment_id",
    "01J0000000000000000000000C": "campaign_id",
    "RipRmi": "template_id",
    "01GDDKASAP8TKDDA2GRZDSVP4H": "person_id",
    "01gddkasap8tkdda2grzdsvp4h.AbCdEf": "kx",
    "QqeQeh": "metric_id",
    "ada@example.com": "profile_email",
    "ada%40example.com": "profile_email",
    "AbC123": "public_key",
}


def with_seeded_ids(text: str, ids: dict[str, str]) -> str:
    for made_up, name in sorted(EXAMPLE_IDS.items(), key=lambda item: -len(item[0])):
        text = text.replace(made_up, ids[name].replace("@", "%40") if "%40" in made_up else ids[name])
    return text
