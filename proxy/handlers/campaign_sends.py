"""v1 campaign cancel: the send job keyed by the campaign id (hazard 9), then the campaign
read back. (Send and schedule need no handler: they are mapping YAML, a body and a
sequence.)"""

from __future__ import annotations

from proxy.engine.context import Context
from proxy.engine.steps import Steps
from proxy.handlers.campaign_reads import read_back
from proxy.legacy.responses import LegacyResponse
from proxy.shapes.campaign_input import cancel_body

SEND_JOB = "/api/campaign-send-jobs/{id}"


async def cancel(ctx: Context) -> LegacyResponse:
    """Cancel for good (not revert to draft), then answer with the cancelled campaign."""
    campaign_id = ctx.path_params["campaign_id"]
    steps = Steps(ctx)
    call = ctx.call("PATCH", SEND_JOB, path_params={"id": campaign_id}, body=cancel_body(campaign_id))
    await steps.send(f"cancel the send of campaign {campaign_id}", call)
    return await read_back(ctx, steps, campaign_id)
