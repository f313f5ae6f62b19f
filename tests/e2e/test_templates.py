"""v1 email templates through the proxy and the sandbox, with the legacy wire forms:
form-encoded writes, `api_key` in the query or the form, `context` and `to` as JSON strings."""

import json

import pytest

from proxy.config import load_settings
from proxy.revision import BETA_REVISION, PINNED_REVISION
from proxy.sandbox.seed import DEMO_PRIVATE_KEY as PRIVATE_KEY

KEY = {"api_key": PRIVATE_KEY}
ENVELOPE_KEYS = ["end", "object", "page_size", "start", "total", "data", "page"]
TEMPLATE_KEYS = ["object", "id", "name", "html", "created", "updated"]
SEED_NAMES = ["Abandoned cart", "Monthly newsletter", "Order follow-up", "Welcome"]


def demo_template(sandbox, name: str):
    (account,) = sandbox.accounts
    return next(t for t in account.templates.library() if t.name == name)


async def ok(response):
    assert response.status == 200, await response.text()
    assert response.content_type == "application/json"
    return await response.json()


def assert_legacy_template(template: dict) -> None:
    assert list(template) == TEMPLATE_KEYS
    assert template["object"] == "email-template"
    for stamp in ("created", "updated"):
        assert len(template[stamp]) == 19 and template[stamp][10] == " "


async def test_the_listing_is_a_page_of_templates_sorted_by_name(proxy, contract):
    body = await ok(await proxy.get("/api/v1/email-templates", params=KEY))
    assert list(body) == ENVELOPE_KEYS
    assert [t["name"] for t in body["data"]] == SEED_NAMES, "campaign copies are not listed"
    assert (body["total"], body["page_size"], body["start"], body["end"], body["page"]) == (4, 4, 0, 3, 0)
    for template in body["data"]:
        assert_legacy_template(template)
    (request,) = contract.requests
    assert ("sort", "name") in request.query and ("page[size]", "10") in request.query


async def test_page_and_count_walk_past_the_ten_a_page_cap(proxy, contract):
    for index in range(9):
        await ok(await proxy.post("/api/v1/email-templates", params=KEY, data={"name": f"Z{index}", "html": "<p/>"}))
    contract.requests.clear()
    body = await ok(await proxy.get("/api/v1/email-templates", params={**KEY, "page": "2", "count": "5"}))
    assert [t["name"] for t in body["data"]] == ["Z6", "Z7", "Z8"]
    assert (body["total"], body["start"], body["end"], body["page_size"]) == (13, 10, 12, 3)
    assert len(contract.requests) == 2, "13 templates are two upstream pages"
    capped = await ok(await proxy.get("/api/v1/email-templates", params={**KEY, "count": "1000"}))
    assert capped["page_size"] == 13


async def test_create_sends_a_code_template(proxy, contract):
    html = "<html><body>Hi {{ first_name }}</body></html>"
    created = await ok(await proxy.post("/api/v1/email-templates", data={**KEY, "name": "Fresh", "html": html}))
    assert_legacy_template(created)
    assert (created["name"], created["html"]) == ("Fresh", html)
    (request,) = contract.requests
    assert json.loads(request.body) == {"data": {"type": "template", "attributes": {"editor_type": "CODE", "name": "Fresh", "html": html}}}


async def test_create_needs_name_and_html(proxy, contract):
    response = await proxy.post("/api/v1/email-templates", params=KEY, data={"name": "No body"})
    assert response.status == 400
    assert await response.json() == {"status": 400, "message": "Missing required parameter: html."}
    assert contract.requests == []


@pytest.mark.parametrize("where", ["form", "query"])
async def test_update_takes_fields_from_the_form_or_the_query(proxy, sandbox, where):
    template = demo_template(sandbox, "Welcome")
    fields = {"name": "Welcome v2", "html": "<p>v2</p>"}
    request = {"data": fields, "params": KEY} if where == "form" else {"params": {**KEY, **fields}}
    updated = await ok(await proxy.put(f"/api/v1/email-template/{template.id}", **request))
    assert_legacy_template(updated)
    assert (updated["id"], updated["name"], updated["html"]) == (template.id, "Welcome v2", "<p>v2</p>")
    assert (template.name, template.html) == ("Welcome v2", "<p>v2</p>")


async def test_an_unknown_template_is_a_v1_404(proxy):
    response = await proxy.put("/api/v1/email-template/NoSuch", params=KEY, data={"name": "x"})
    assert response.status == 404
    assert await response.json() == {"status": 404, "message": "The requested resource does not exist."}


async def test_delete_answers_the_deleted_template(proxy, sandbox, new_api):
    template = demo_template(sandbox, "Order follow-up")
    deleted = await ok(await proxy.delete(f"/api/v1/email-template/{template.id}", params=KEY))
    assert_legacy_template(deleted)
    assert (deleted["id"], deleted["name"]) == (template.id, "Order follow-up")
    listed = await new_api("/api/templates")
    assert template.id not in {t["id"] for t in listed["data"]}
    again = await proxy.delete(f"/api/v1/email-template/{template.id}", params=KEY)
    assert again.status == 404


async def test_clone_answers_the_new_template(proxy, sandbox):
    source = demo_template(sandbox, "Welcome")
    clone = await ok(await proxy.post(f"/api/v1/email-template/{source.id}/clone", params=KEY, data={"name": "Welcome copy"}))
    assert_legacy_template(clone)
    assert (clone["name"], clone["html"]) == ("Welcome copy", source.html)
    assert clone["id"] != source.id
    nameless = await proxy.post(f"/api/v1/email-template/{source.id}/clone", params=KEY)
    assert nameless.status == 400


async def test_render_takes_a_json_context_and_answers_html_and_text(proxy, sandbox, contract):
    template = demo_template(sandbox, "Order follow-up")
    context = json.dumps({"first_name": "Ada", "order": {"id": "#5001"}})
    rendered = await ok(await proxy.post(f"/api/v1/email-template/{template.id}/render", params=KEY, data={"context": context}))
    assert list(rendered) == ["object", "id", "name", "data"]
    assert rendered == {
        "object": "email-template",
        "id": template.id,
        "name": "Order follow-up",
        "data": {"html": "<html><body><p>Thanks for order #5001, Ada!</p></body></html>", "text": "Thanks for order #5001, Ada!"},
    }
    (request,) = contract.requests
    assert request.path == "/api/template-render" and request.header("revision") == PINNED_REVISION


@pytest.mark.parametrize(("context", "message"), [("{not json", "not valid JSON"), ('["a"]', "must be a JSON object")])
async def test_render_refuses_a_context_that_is_no_json_object(proxy, sandbox, context, message):
    template = demo_template(sandbox, "Welcome")
    response = await proxy.post(f"/api/v1/email-template/{template.id}/render", params=KEY, data={"context": context})
    assert response.status == 400
    assert message in (await response.json())["message"]


SEND_FORM = {"from_email": "shop@example.com", "from_name": "Shop", "subject": "Test", "context": '{"first_name": "Ada"}'}


async def test_send_without_the_beta_opt_in_is_refused_by_name(proxy, sandbox, contract):
    template = demo_template(sandbox, "Welcome")
    response = await proxy.post(f"/api/v1/email-template/{template.id}/send", params=KEY, data={**SEND_FORM, "to": "ada@example.com"})
    assert response.status == 501
    body = await response.json()
    assert body["status"] == 501 and "KLP_BETA_TEMPLATE_SEND" in body["message"]
    assert contract.requests == []


@pytest.mark.parametrize(
    ("to", "recipients"),
    [
        ("ada@example.com", ("ada@example.com",)),
        (json.dumps([{"name": "Ada", "email": "ada@example.com"}, {"email": "grace@example.com"}]), ("ada@example.com", "grace@example.com")),
    ],
)
async def test_send_with_the_opt_in_queues_a_beta_preview_send(make_proxy, sandbox, contract, to, recipients):
    proxy = await make_proxy(beta_template_send=True)
    template = demo_template(sandbox, "Welcome")
    queued = await ok(await proxy.post(f"/api/v1/email-template/{template.id}/send", params=KEY, data={**SEND_FORM, "to": to}))
    assert queued == {"object": "email-template", "id": template.id, "name": "Welcome", "data": {"status": "queued"}}
    read, request = contract.requests
    assert (read.path, read.header("revision")) == (f"/api/templates/{template.id}", PINNED_REVISION)
    assert (request.path, request.header("revision")) == ("/api/template-preview-send-jobs", BETA_REVISION)
    (account,) = sandbox.accounts
    (sent,) = account.templates.preview_sends
    assert (sent.template_id, sent.recipients, sent.context) == (template.id, recipients, {"first_name": "Ada"})
    render = await proxy.post(f"/api/v1/email-template/{template.id}/render", params=KEY)
    assert render.status == 200 and contract.requests[-1].header("revision") == PINNED_REVISION, "other routes stay on GA"


@pytest.mark.parametrize("to", ["[{\"name\": \"No address\"}]", "[not json"])
async def test_send_refuses_recipients_without_addresses(make_proxy, sandbox, contract, to):
    proxy = await make_proxy(beta_template_send=True)
    template = demo_template(sandbox, "Welcome")
    response = await proxy.post(f"/api/v1/email-template/{template.id}/send", params=KEY, data={**SEND_FORM, "to": to})
    assert response.status == 400
    assert (await response.json())["message"].startswith("Invalid value for to")
    assert contract.requests == []


def test_the_opt_in_is_one_setting_off_by_default():
    assert load_settings(environ={}).beta_template_send is False
    assert load_settings(environ={"KLP_BETA_TEMPLATE_SEND": "true"}).beta_template_send is True
