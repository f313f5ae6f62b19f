"""v1 email templates: create, update, delete, clone, render, and send (beta, opt-in).

Legacy templates are imported HTML, so they become `editor_type: CODE` templates. Render
and clone name the template in the body, not the path (hazard 19).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from proxy.engine.context import Context
from proxy.engine.steps import Steps
from proxy.legacy.errors import LegacyError
from proxy.legacy.responses import LegacyResponse, json_response
from proxy.revision import BETA_REVISION, PINNED_REVISION
from proxy.shapes.template import (
    legacy_template,
    queued_send,
    rendered_template,
    send_recipients,
    template_attributes,
    template_body,
)

TEMPLATE = "/api/templates/{id}"
BETA_SETTING = "KLP_BETA_TEMPLATE_SEND"


async def create(ctx: Context) -> LegacyResponse:
    attributes = {"editor_type": "CODE", **template_attributes(ctx.params)}
    reply = await ctx.send(ctx.call("POST", "/api/templates", body=template_body(attributes)))
    return json_response(legacy_template(reply.document["data"]))


async def update(ctx: Context) -> LegacyResponse:
    template_id = ctx.path_params["template_id"]
    body = template_body(template_attributes(ctx.params), template_id)
    reply = await ctx.send(ctx.call("PATCH", TEMPLATE, path_params={"id": template_id}, body=body))
    return json_response(legacy_template(reply.document["data"]))


async def delete(ctx: Context) -> LegacyResponse:
    """The legacy answer is the deleted template, which the new API's 204 no longer carries."""
    template_id = ctx.path_params["template_id"]
    steps = Steps(ctx)
    read = await steps.send(f"read template {template_id}", ctx.call("GET", TEMPLATE, path_params={"id": template_id}))
    await steps.send(f"delete template {template_id}", ctx.call("DELETE", TEMPLATE, path_params={"id": template_id}))
    return json_response(legacy_template(read.document["data"]))


async def clone(ctx: Context) -> LegacyResponse:
    body = template_body({"name": ctx.params["name"]}, ctx.path_params["template_id"])
    reply = await ctx.send(ctx.call("POST", "/api/template-clone", body=body))
    return json_response(legacy_template(reply.document["data"]))


async def render(ctx: Context) -> LegacyResponse:
    body = template_body({"context": _context(ctx)}, ctx.path_params["template_id"])
    reply = await ctx.send(ctx.call("POST", "/api/template-render", body=body))
    return json_response(rendered_template(reply.document["data"]))


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
        "attributes": {"recipients": recipients, "context": _context(ctx)},
        "relationships": {"template": {"data": {"type": "template", "id": template_id}}},
    }
    reply = await ctx.send(ctx.call("POST", "/api/template-preview-send-jobs", body={"data": job}))
    return json_response(queued_send(template, reply.document["data"]))


def _context(ctx: Context) -> dict[str, Any]:
    context = ctx.params["context"]
    if context is None:
        return {}
    if not isinstance(context, dict):
        raise LegacyError(400, "Invalid value for context: must be a JSON object.")
    return context
