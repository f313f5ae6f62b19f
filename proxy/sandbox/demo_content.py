"""The demo account's email templates and campaigns.

Four HTML templates, and one email campaign in each state a legacy client meets: sent
(to the newsletter, minus a segment), scheduled (to the VIP list), a draft (to a segment)
and a cancelled one. Each campaign's message holds its own copy of a template, as
assigning a template makes one.
"""

from __future__ import annotations

from dataclasses import replace

from proxy.sandbox.campaign_store import Campaign, CampaignMessage
from proxy.sandbox.ids import IdFactory
from proxy.sandbox.jsonapi import isoformat
from proxy.sandbox.store import Account
from proxy.sandbox.template_store import Template

DAY = 86_400
SENDER = {"from_email": "news@shop.example.com", "from_label": "Example Shop"}
TEMPLATES = (
    ("Abandoned cart", "<html><body><p>{{ first_name|default:\"Hi there\" }}, your cart is waiting.</p></body></html>"),
    ("Monthly newsletter", "<html><body><h1>News for {{ first_name|default:\"you\" }}</h1><p>{{ month }} at the shop.</p></body></html>"),
    ("Order follow-up", "<html><body><p>Thanks for order {{ order.id }}, {{ first_name }}!</p></body></html>"),
    ("Welcome", "<html><body><p>Welcome, {{ first_name|default:\"friend\" }}!</p></body></html>"),
)
# (name, subject, template index, status, included, excluded, days from now it was or is to be sent)
CAMPAIGNS = (
    ("Spring launch", "Spring arrivals are here", 1, "Sent", ("Newsletter",), ("Outdoor fans",), -20),
    ("Summer preview", "A first look at summer", 1, "Scheduled", ("VIP Customers",), (), 7),
    ("Weekend sale", "20% off this weekend", 0, "Draft", ("Pro plan",), (), None),
    ("Flash sale", "Three hours only", 0, "Cancelled", ("Newsletter",), (), 1),
)


def add_content(account: Account, ids: IdFactory, now: float) -> None:
    templates = [_template(account, ids, index, name, html, now) for index, (name, html) in enumerate(TEMPLATES)]
    audiences = {group.name: group.id for group in (*account.lists, *account.segments)}
    for index, (name, subject, template_index, status, included, excluded, send_day) in enumerate(CAMPAIGNS):
        created = now - (60 - 10 * index) * DAY
        send_time = None if send_day is None else now + send_day * DAY
        campaign = Campaign(
            id=ids.ulid(created),
            name=name,
            created=created,
            updated=created,
            included=[audiences[audience] for audience in included],
            excluded=[audiences[audience] for audience in excluded],
            send_strategy=_strategy(send_time),
            send_options={"use_smart_sending": True},
            tracking_options={"add_tracking_params": False, "is_tracking_clicks": True, "is_tracking_opens": True},
            status=status,
            scheduled_at=None if send_time is None else min(send_time, created + DAY),
            send_time=send_time,
        )
        copy = replace(templates[template_index], id=ids.short(), reusable=False, api_created=False)
        account.templates.add(copy)
        definition = {"channel": "email", "label": name, "content": {"subject": subject, **SENDER}}
        message = CampaignMessage(ids.ulid(created), campaign.id, definition, copy.id, created, created)
        account.campaigns.add(campaign, [message])


def _strategy(send_time: float | None) -> dict[str, object]:
    """Campaigns that have a send time were scheduled for it; the draft would send at once."""
    if send_time is None:
        return {"method": "immediate"}
    return {"method": "static", "datetime": isoformat(send_time), "options": {"is_local": False}}


def _template(account: Account, ids: IdFactory, index: int, name: str, html: str, now: float) -> Template:
    created = now - (120 - 15 * index) * DAY
    template = Template(ids.short(), name, "CODE", html, None, None, created, created)
    account.templates.add(template)
    return template
