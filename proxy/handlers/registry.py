"""Every named handler a mapping entry may bind (`handler: module.function`).

An explicit table of imports, not names resolved at run time: a renamed or deleted
function fails at import, and `check` lists any entry naming a handler not found here.
"""

from __future__ import annotations

from proxy.engine.dispatch import Runner
from proxy.handlers import (
    campaign_recipients,
    campaign_sends,
    campaigns,
    exclusions,
    export,
    groups,
    lists,
    members,
    people,
    privacy,
    public,
    subscriptions,
    templates,
)

HANDLERS: dict[str, Runner] = {
    "campaign_recipients.recipients": campaign_recipients.recipients,
    "campaign_sends.cancel": campaign_sends.cancel,
    "campaigns.clone": campaigns.clone,
    "campaigns.create": campaigns.create,
    "campaigns.get": campaigns.get,
    "campaigns.list_campaigns": campaigns.list_campaigns,
    "campaigns.update": campaigns.update,
    "exclusions.exclude": exclusions.exclude,
    "exclusions.list_exclusions": exclusions.list_exclusions,
    "export.export": export.export,
    "groups.all_members": groups.all_members,
    "groups.list_exclusions": groups.list_exclusions,
    "lists.all_groups": lists.all_groups,
    "members.add_members": members.add_members,
    "members.remove_members": members.remove_members,
    "people.update_person": people.update_person,
    "privacy.deletion_request": privacy.deletion_request,
    "public.identify": public.identify,
    "public.track": public.track,
    "subscriptions.ajax_subscribe": subscriptions.ajax_subscribe,
    "subscriptions.check_subscriptions": subscriptions.check_subscriptions,
    "subscriptions.subscribe": subscriptions.subscribe,
    "subscriptions.unsubscribe": subscriptions.unsubscribe,
    "templates.send": templates.send,
}
