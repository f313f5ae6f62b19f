"""v1 campaign send, schedule and cancel: send jobs keyed by the campaign id (hazard 9)."""

from __future__ import annotations

from proxy.engine.context import Context
from proxy.engine.steps import Steps
from proxy.handlers.campaign_reads import CAMPAIGN, read_back
from proxy.legacy.responses import LegacyResponse, json_response
from proxy.shapes.campaign import queued
from proxy.shapes.campaign_input import cancel_body, schedule_patch, send_job_body

SEND_JOBS = "/api/campaign-send-jobs"


async def send(ctx: Context) -> LegacyResponse:
    campaign_id = ctx.path_params["campaign_id"]
    reply = await ctx.send(ctx.call("POST", SEND_JOBS, body=send_job_body(campaign_id)))
    return json_response(queued(reply.document["data"]))


async def schedule(ctx: Context) -> LegacyResponse:
    """A static send strategy at `send_time`, then a send job, which waits for that time."""
    campaign_id = ctx.path_params["campaign_id"]
    patch = schedule_patch(campaign_id, ctx.params["send_time"])
    steps = Steps(ctx)
    set_time = ctx.call("PATCH", CAMPAIGN, path_params={"id": campaign_id}, body=patch)
    await steps.send(f"set the send time of campaign {campaign_id}", set_time)
    job = await steps.send(f"queue campaign {campaign_id}", ctx.call("POST", SEND_JOBS, body=send_job_body(campaign_id)))
    return json_response(queued(job.document["data"]))


async def cancel(ctx: Context) -> LegacyResponse:
    """Cancel for good (not revert to draft), then answer with the cancelled campaign."""
    campaign_id = ctx.path_params["campaign_id"]
    steps = Steps(ctx)
    call = ctx.call("PATCH", SEND_JOBS + "/{id}", path_params={"id": campaign_id}, body=cancel_body(campaign_id))
    await steps.send(f"cancel the send of campaign {campaign_id}", call)
    return await read_back(ctx, steps, campaign_id)
