"""Reading legacy campaigns back: the campaign, its email message with the message's
template copy, and the lists and segments it names with their member counts (and, once
sent, its recipient count: `proxy.engine.counts`); independent reads run concurrently."""

from __future__ import annotations

import asyncio
from typing import Any, Iterable, Mapping

from proxy.engine.context import Context
from proxy.engine.counts import counts
from proxy.engine.lookups import looked_up
from proxy.engine.steps import Steps
from proxy.engine.styles import walk
from proxy.legacy.errors import LegacyError
from proxy.legacy.responses import LegacyResponse, json_response
from proxy.shapes.campaign import audience_ids, email_message, legacy_campaign, was_sent
from proxy.shapes.filter_expr import any_of
from proxy.shapes.included import Included, index_included, related
from proxy.shapes.v1_list import legacy_v1_list, with_person_count

CAMPAIGN = "/api/campaigns/{id}"
MESSAGES = "/api/campaigns/{id}/campaign-messages"
GROUP_COLLECTIONS = ("/api/lists", "/api/segments")
GROUP_PAGE_SIZE = "10"  # the most either collection serves per page


async def read_campaign(ctx: Context, campaign_id: str) -> dict[str, Any]:
    """The full legacy campaign: the campaign and its message at once, then its audiences."""
    campaign, message, included = await campaign_and_message(ctx, campaign_id, include=("template",))
    template = related(message, "template", included) if message else None
    audiences, recipients = await audiences_and_recipients(ctx, [campaign])
    return legacy_campaign(
        campaign, message, audiences, template, with_template=True, recipients=recipients.get(campaign["id"], 0)
    )


async def audiences_and_recipients(
    ctx: Context, campaigns: Iterable[Mapping[str, Any]]
) -> tuple[dict[str, dict[str, Any]], dict[str, int]]:
    """What legacy campaign objects show besides the campaigns: the lists and segments
    they name as legacy list objects with their member counts, and the recipient count
    of each one that was sent (or is sending), all counted at once."""
    campaigns = list(campaigns)
    audiences = await audiences_of(ctx, (group for campaign in campaigns for group in audience_ids(campaign)))
    sent = [campaign["id"] for campaign in campaigns if was_sent(campaign)]
    wanted = [*((group["list_type"], group_id) for group_id, group in audiences.items()), *(("campaign", i) for i in sent)]
    found = await counts(ctx, wanted)
    shown = {group_id: with_person_count(group, found[(group["list_type"], group_id)]) for group_id, group in audiences.items()}
    return shown, {campaign_id: found[("campaign", campaign_id)] for campaign_id in sent}


async def campaign_and_message(
    ctx: Context, campaign_id: str, *, include: tuple[str, ...] = ()
) -> tuple[Mapping[str, Any], Mapping[str, Any] | None, Included]:
    """The campaign and its email message (with the message's `include`s), read concurrently."""
    path_params = {"id": campaign_id}
    query = (("include", ",".join(include)),) if include else ()
    campaign_reply, messages_reply = await asyncio.gather(
        ctx.send(ctx.call("GET", CAMPAIGN, path_params=path_params)),
        ctx.send(ctx.call("GET", MESSAGES, path_params=path_params, query=query)),
    )
    message = email_message(messages_reply.document.get("data") or [])
    return campaign_reply.document["data"], message, index_included(messages_reply.document)


async def read_back(ctx: Context, steps: Steps, campaign_id: str) -> LegacyResponse:
    """The answer to a campaign write: the campaign as it now is, read as the last step."""
    async with steps.step(f"read campaign {campaign_id} back", changes=False):
        return json_response(await read_campaign(ctx, campaign_id))


async def audiences_of(ctx: Context, group_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Legacy list objects by id, through the lookups cache. An id may name a list or a
    segment (hazard 7), so both collections are asked for all missing ids at once; ids
    that neither knows (deleted) are left out. Their `person_count` is counted per read
    (`audiences_and_recipients`), not kept with the names."""

    async def fetch(wanted: list[str]) -> dict[str, Any]:
        condition = any_of("id", wanted)
        found = await asyncio.gather(*(_every(ctx, path, condition) for path in GROUP_COLLECTIONS))
        return {group["id"]: legacy_v1_list(group, 0) for groups in found for group in groups}

    return await looked_up(ctx, "groups", "group", group_ids, fetch)


async def _every(ctx: Context, path: str, condition: str) -> list[Mapping[str, Any]]:
    first = ctx.call("GET", path, query=(("filter", condition), ("page[size]", GROUP_PAGE_SIZE)))
    return [group async for group, _ in walk(ctx, first)]


async def message_id(ctx: Context, steps: Steps, campaign_id: str) -> str:
    """The id of the campaign's email message, which subject, sender and template live on."""
    return str((await read_message(ctx, steps, campaign_id))["id"])


async def read_message(ctx: Context, steps: Steps, campaign_id: str) -> Mapping[str, Any]:
    """The campaign's email message resource."""
    call = ctx.call("GET", MESSAGES, path_params={"id": campaign_id})
    reply = await steps.send(f"read the message of campaign {campaign_id}", call)
    message = email_message(reply.document.get("data") or [])
    if message is None:
        raise LegacyError(400, f"Campaign {campaign_id} has no email message.")
    return message
