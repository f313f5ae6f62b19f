"""The demo account's lists and segments.

- "Newsletter", double opt-in: everyone, globally suppressed people included (Klaviyo
  keeps them on lists), except two people who unsubscribed from this list alone and
  carry a list suppression instead.
- "VIP Customers", single opt-in: people with at least VIP_POINTS loyalty points.
- Two segments whose membership follows their definition: a custom property's value.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from proxy.sandbox.groups import DOUBLE_OPT_IN, SINGLE_OPT_IN, MailingList, Segment
from proxy.sandbox.ids import IdFactory
from proxy.sandbox.store import Account, ListSuppression, Profile

DAY = 86_400
LIST_UNSUBSCRIBERS = (5, 10)  # positions of the people who left the newsletter
VIP_POINTS = 3000
SEGMENTS = (("Pro plan", "plan", "pro"), ("Outdoor fans", "favorite_category", "outdoor"))


def add_groups(account: Account, rng: random.Random, ids: IdFactory, profiles: Sequence[Profile], now: float) -> None:
    newsletter = MailingList(ids.short(), "Newsletter", now - 390 * DAY, now - 2 * DAY, DOUBLE_OPT_IN)
    vip = MailingList(ids.short(), "VIP Customers", now - 200 * DAY, now - 9 * DAY, SINGLE_OPT_IN)
    for position, profile in enumerate(profiles):
        joined = profile.created + rng.randint(0, 20) * DAY
        if position in LIST_UNSUBSCRIBERS:
            left = joined + rng.randint(1, 9) * DAY
            profile.subscriptions.email_list_suppressions.append(ListSuppression(newsletter.id, "UNSUBSCRIBE", left))
        else:
            newsletter.members.add(profile.id, joined)
        if profile.properties["loyalty_points"] >= VIP_POINTS:
            vip.members.add(profile.id, joined)
    for mailing_list in (newsletter, vip):
        account.lists.add(mailing_list)
    for index, (name, prop, value) in enumerate(SEGMENTS):
        created = now - (300 - 40 * index) * DAY
        segment = Segment(ids.short(), name, created, created, _definition(prop, value))
        for profile in profiles:
            if profile.properties.get(prop) == value:
                segment.members.add(profile.id, max(created, profile.created))
        account.segments.add(segment)


def _definition(prop: str, value: str) -> dict:
    """A SegmentDefinition with one condition: the custom property equals the value."""
    condition = {
        "type": "profile-property",
        "property": f"properties['{prop}']",
        "filter": {"type": "string", "operator": "equals", "value": value},
    }
    return {"condition_groups": [{"conditions": [condition]}]}
