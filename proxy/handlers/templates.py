"""v1 email template send (beta, opt-in). (Creating, updating, deleting, cloning and
rendering templates need no handler: they are mapping YAML, a body or a sequence.)"""

from __future__ import annotations

from dataclasses import replace

from proxy.engine.context import Context
from proxy.legacy.errors import LegacyError
from proxy.legacy.responses import LegacyResponse, json_response
from proxy.revision import BETA_REVISION, PINNED_REVISION
from proxy.shapes.conversions import json_object
from proxy.shapes.template import queued_send, send_recipients

TEMPLATE = "/api/templates/{id}"
BETA_SETTING = "KLP_BETA_TEMPLATE_SEND"


async def send(ctx: Context) -> LegacyResponse:
    """No GA operation sends a template; Klaviyo's beta preview send does, when allowed."""
    if not ctx.settings.beta_template_send:
        raise LegacyError(
            501,
            "Sending a template has no equivalent in Klaviyo's current API. The proxy can send it "
            f"through the beta template preview send (revision {BETA_REVISION}) when {BETA_SETTING}=true.",
        )
    template_id = ctx.path_params["template_id"]
    recipients = send_recipients(ctx.params["to"])
    # The beta revision has no template read: the GA one names the template (and an
    # unknown one is a 404 before anything is queued).
    read = replace(ctx.call("GET", TEMPLATE, path_params={"id": template_id}), revision=PINNED_REVISION)
    template = (await ctx.send(read)).document["data"]
    job = {
        "type": "template-preview-send-job",
        "attributes": {"recipients": recipients, "context": json_object(ctx.params["context"], "context")},
        "relationships": {"template": {"data": {"type": "template", "id": template_id}}},
    }
    reply = await ctx.send(ctx.call("POST", "/api/template-preview-send-jobs", body={"data": job}))
    return json_response(queued_send(template, reply.document["data"]))

