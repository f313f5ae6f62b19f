"""Templates: listing, create/read/update/delete, clone, render, and the beta preview send.

HTML templates (`editor_type` CODE, or USER_DRAGGABLE with its HTML) are served; a
SYSTEM_DRAGGABLE template is built from a drag-and-drop `definition`, which the sandbox
does not model, so it refuses one explicitly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from proxy.sandbox import errors, jsonapi
from proxy.sandbox.identity import EMAIL
from proxy.sandbox.jsonapi import Resource, View, same_named
from proxy.sandbox.lookup import existing
from proxy.sandbox.pagination import page_links, requested_page
from proxy.sandbox.payload import attributes_of, member, path_id, resource_data
from proxy.sandbox.resources import named
from proxy.sandbox.routing import Call, Reply, RouteTable
from proxy.sandbox.template_language import render, text_version
from proxy.sandbox.template_store import API_TEMPLATE_CAP, PreviewSend, Template

ROUTES = RouteTable()

ATTRIBUTES = "/data/attributes"
HTML_EDITORS = frozenset({"CODE", "USER_DRAGGABLE"})
EDITORS = HTML_EDITORS | {"SYSTEM_DRAGGABLE"}
PREVIEW_JOB = "template-preview-send-job"


def template_resource(template: Template) -> Resource:
    attributes = {
        **same_named(template, "name", "editor_type", "html", "text", "amp"),
        "created": jsonapi.isoformat(template.created),
        "updated": jsonapi.isoformat(template.updated),
    }
    return Resource("template", template.id, attributes)


def existing_template(call: Call, template_id: str, pointer: str | None = None) -> Template:
    """The template, or a 404 (path ids) / 400 pointing into the body (body ids)."""
    return existing(call.account.templates.get, "template", template_id, pointer=pointer)


def private_copy(call: Call, template: Template) -> Template:
    """The non-reusable copy Klaviyo attaches to a campaign message."""
    copy = replace(template, id=call.ids.short(), created=call.now, updated=call.now, reusable=False, api_created=False)
    call.account.templates.add(copy)
    return copy


@ROUTES.route("GET", "/api/templates")
def get_templates(call: Call) -> Reply:
    view = View.of(call)
    page = requested_page(call, call.account.templates.library(), named.FILTERABLE, named.SORTS, default_sort="id")
    resources = [template_resource(template) for template in page.items]
    return Reply(200, jsonapi.collection(resources, view, page_links(call, page)))


@ROUTES.route("GET", "/api/templates/{id}")
def get_template(call: Call) -> Reply:
    return _template_reply(call, 200, existing_template(call, call.path_params["id"]))


@ROUTES.route("POST", "/api/templates")
def create_template(call: Call) -> Reply:
    attributes = attributes_of(resource_data(call.body, "template"))
    name = member(attributes, "name", ATTRIBUTES, str, required=True)
    editor_type = _editor_type(attributes)
    _refuse_definition(attributes)
    _within_cap(call)
    template = Template(
        id=call.ids.short(),
        name=name,
        editor_type=editor_type,
        html=member(attributes, "html", ATTRIBUTES, str, required=True),
        text=member(attributes, "text", ATTRIBUTES, str),
        amp=member(attributes, "amp", ATTRIBUTES, str),
        created=call.now,
        updated=call.now,
    )
    call.account.templates.add(template)
    return _template_reply(call, 201, template)


@ROUTES.route("PATCH", "/api/templates/{id}")
def update_template(call: Call) -> Reply:
    data = resource_data(call.body, "template")
    template = existing_template(call, path_id(data, call.path_params["id"]))
    attributes = attributes_of(data)
    _refuse_definition(attributes)
    # A null name or html leaves it as it is (a template always has both); null clears text and amp.
    template.name = member(attributes, "name", ATTRIBUTES, str) or template.name
    template.html = member(attributes, "html", ATTRIBUTES, str) or template.html
    for optional in ("text", "amp"):
        if optional in attributes:
            setattr(template, optional, member(attributes, optional, ATTRIBUTES, str))
    template.updated = call.now
    return _template_reply(call, 200, template)


@ROUTES.route("DELETE", "/api/templates/{id}")
def delete_template(call: Call) -> Reply:
    existing_template(call, call.path_params["id"])
    call.account.templates.remove(call.path_params["id"])
    return Reply(204)


@ROUTES.route("POST", "/api/template-clone")
def clone_template(call: Call) -> Reply:
    data = resource_data(call.body, "template")
    source = existing_template(call, member(data, "id", "/data", str, required=True), pointer="/data/id")
    attributes = attributes_of(data)
    _within_cap(call)
    clone = replace(
        source,
        id=call.ids.short(),
        name=member(attributes, "name", ATTRIBUTES, str) or f"Copy of {source.name}",
        created=call.now,
        updated=call.now,
        reusable=True,
        api_created=True,
    )
    call.account.templates.add(clone)
    return _template_reply(call, 201, clone)


@ROUTES.route("POST", "/api/template-render")
def render_template(call: Call) -> Reply:
    """201 with the template's HTML, text and AMP rendered against the context (not stored)."""
    data = resource_data(call.body, "template")
    template = existing_template(call, member(data, "id", "/data", str, required=True), pointer="/data/id")
    attributes = attributes_of(data)
    context = member(attributes, "context", ATTRIBUTES, dict, required=True)
    html = render(template.html, context, escape=True)
    rendered = replace(
        template,
        html=html,
        text=render(template.text, context, escape=False) if template.text is not None else text_version(html),
        amp=render(template.amp, context, escape=True) if template.amp is not None else None,
    )
    return _template_reply(call, 201, rendered)


@ROUTES.route("POST", "/api/template-preview-send-jobs", "create_template_preview_send_job_beta")
def create_template_preview_send_job(call: Call) -> Reply:
    """Beta: queue a test send of a template to a few addresses (recorded, never delivered)."""
    data = resource_data(call.body, PREVIEW_JOB)
    attributes = attributes_of(data)
    relationships = member(data, "relationships", "/data", dict, required=True)
    template = existing_template(call, _related_id(relationships, "template"), pointer="/data/relationships/template")
    send = PreviewSend(
        id=call.ids.ulid(call.now),
        template_id=template.id,
        recipients=_recipients(attributes),
        context=member(attributes, "context", ATTRIBUTES, dict) or {},
        created_at=call.now,
    )
    call.account.templates.preview_sends.append(send)
    job = Resource(PREVIEW_JOB, send.id, {"status": "queued", "created_at": jsonapi.isoformat(send.created_at)})
    view = View.of(call)
    return Reply(202, jsonapi.single(job, view))


def _template_reply(call: Call, status: int, template: Template) -> Reply:
    view = View.of(call)
    return Reply(status, jsonapi.single(template_resource(template), view))


def _editor_type(attributes: Mapping[str, Any]) -> str:
    editor_type = member(attributes, "editor_type", ATTRIBUTES, str, required=True)
    if editor_type not in EDITORS:
        raise errors.invalid(
            f"'editor_type' must be one of {', '.join(sorted(EDITORS))}.", pointer=f"{ATTRIBUTES}/editor_type"
        )
    if editor_type not in HTML_EDITORS:
        raise errors.invalid(
            "The sandbox serves HTML templates only (CODE or USER_DRAGGABLE); SYSTEM_DRAGGABLE "
            "templates are built from a drag-and-drop definition it does not model.",
            pointer=f"{ATTRIBUTES}/editor_type",
        )
    return editor_type


def _refuse_definition(attributes: Mapping[str, Any]) -> None:
    if attributes.get("definition") is not None:
        raise errors.invalid(
            "The sandbox does not model drag-and-drop template definitions.", pointer=f"{ATTRIBUTES}/definition"
        )


def _within_cap(call: Call) -> None:
    if call.account.templates.api_created() >= API_TEMPLATE_CAP:
        raise errors.invalid(
            f"This account has reached the limit of {API_TEMPLATE_CAP} templates created through the API.",
            pointer="/data",
        )


def _related_id(relationships: Mapping[str, Any], name: str) -> str:
    at = f"/data/relationships/{name}"
    linkage = member(member(relationships, name, "/data/relationships", dict, required=True), "data", at, dict, required=True)
    return member(linkage, "id", f"{at}/data", str, required=True)


def _recipients(attributes: Mapping[str, Any]) -> tuple[str, ...]:
    recipients = member(attributes, "recipients", ATTRIBUTES, list, required=True)
    if not recipients:
        raise errors.invalid("At least one recipient is required.", pointer=f"{ATTRIBUTES}/recipients")
    for index, address in enumerate(recipients):
        if not isinstance(address, str) or not EMAIL.fullmatch(address):
            raise errors.invalid(f"Invalid email address: {address!r}.", pointer=f"{ATTRIBUTES}/recipients/{index}")
    return tuple(recipients)
