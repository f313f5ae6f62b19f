"""v1 campaigns: list, read, create, update and clone.

Writes span the campaign, its email message and the message's template copy (hazard 9),
so they run as ordered steps and answer with the campaign read back.
"""

from __future__ import annotations

from proxy.engine.context import Context
from proxy.engine.snapshots import page_window
from proxy.engine.steps import Steps
from proxy.handlers.campaign_reads import (
    CAMPAIGN,
    audiences_and_recipients,
    message_id,
    read_back,
    read_campaign,
    read_message,
)
from proxy.legacy.envelopes import page_envelope
from proxy.legacy.responses import LegacyResponse, json_response
from proxy.shapes.campaign import (
    campaign_messages,
    email_message,
    excluded_audiences,
    legacy_campaign,
    message_content,
)
from proxy.shapes.campaign_input import (
    assign_body,
    campaign_patch,
    clone_body,
    create_body,
    message_patch,
    touches_message,
)
from proxy.shapes.included import Included
from proxy.upstream.client import Call

CAMPAIGNS = "/api/campaigns"
ASSIGN_TEMPLATE = "/api/campaign-message-assign-template"


async def list_campaigns(ctx: Context) -> LegacyResponse:
    """Newest first, `page`/`count` over cursors, from a page-walk snapshot (the walk for
    `total` is kept); then the lists of the campaigns on the page are looked up in one go,
    and the member and recipient counts the page shows are read or recalled."""
    first = ctx.call("GET", CAMPAIGNS, query=ctx.entry_query())
    page, count = ctx.params["page"], ctx.params["count"]
    window, total = await page_window(ctx, first, _with_message, page * count, (page + 1) * count)
    audiences, recipients = await audiences_and_recipients(ctx, (kept["campaign"] for kept in window))
    items = [
        legacy_campaign(kept["campaign"], kept["message"], audiences, recipients=recipients.get(kept["campaign"]["id"], 0))
        for kept in window
    ]
    return json_response(page_envelope(items, page, count, total))


def _with_message(campaign: dict, included: Included) -> dict:
    return {"campaign": campaign, "message": email_message(campaign_messages(campaign, included))}


async def get(ctx: Context) -> LegacyResponse:
    return json_response(await read_campaign(ctx, ctx.path_params["campaign_id"]))


async def create(ctx: Context) -> LegacyResponse:
    """A draft campaign with one email message, then the template copied onto the message."""
    steps = Steps(ctx)
    created = await steps.send("create the campaign", ctx.call("POST", CAMPAIGNS, body=create_body(ctx.params)))
    campaign_id = created.document["data"]["id"]
    await _assign_template(ctx, steps, campaign_id, await message_id(ctx, steps, campaign_id))
    return await read_back(ctx, steps, campaign_id)


async def update(ctx: Context) -> LegacyResponse:
    """Each resource the given fields touch is changed, campaign first, then its message.
    Nested objects are written whole, read first and merged: the audiences when `list_id`
    changes, the message's `content` when the subject or sender does."""
    campaign_id = ctx.path_params["campaign_id"]
    steps = Steps(ctx)
    excluded: list[str] = []
    if ctx.params["list_id"]:
        read = ctx.call("GET", CAMPAIGN, path_params={"id": campaign_id})
        excluded = excluded_audiences((await steps.send(f"read campaign {campaign_id}", read)).document["data"])
    patch = campaign_patch(campaign_id, ctx.params, excluded)
    if patch is not None:
        await steps.send(f"update campaign {campaign_id}", _patch(ctx, CAMPAIGN, campaign_id, patch))
    if touches_message(ctx.params):
        message = await read_message(ctx, steps, campaign_id)
        content = message_patch(message["id"], ctx.params, message_content(message))
        if content is not None:
            await steps.send("update the subject and sender", _patch(ctx, "/api/campaign-messages/{id}", message["id"], content))
        if ctx.params["template_id"]:
            await _assign_template(ctx, steps, campaign_id, message["id"])
    return await read_back(ctx, steps, campaign_id)


async def clone(ctx: Context) -> LegacyResponse:
    """A draft copy (with its own template copy); `list_id` then replaces its audience."""
    source_id = ctx.path_params["campaign_id"]
    steps = Steps(ctx)
    call = ctx.call("POST", "/api/campaign-clone", body=clone_body(source_id, ctx.params["name"]))
    cloned = (await steps.send(f"clone campaign {source_id}", call)).document["data"]
    clone_id = cloned["id"]
    patch = campaign_patch(clone_id, {"list_id": ctx.params["list_id"]}, excluded_audiences(cloned))
    if patch is not None:
        await steps.send(f"set the list of clone {clone_id}", _patch(ctx, CAMPAIGN, clone_id, patch))
    return await read_back(ctx, steps, clone_id)


async def _assign_template(ctx: Context, steps: Steps, campaign_id: str, message: str) -> None:
    template_id = ctx.params["template_id"]
    call = ctx.call("POST", ASSIGN_TEMPLATE, body=assign_body(message, template_id))
    await steps.send(f"copy template {template_id} into campaign {campaign_id}", call)


def _patch(ctx: Context, path: str, resource_id: str, body: dict) -> Call:
    return ctx.call("PATCH", path, path_params={"id": resource_id}, body=body)
