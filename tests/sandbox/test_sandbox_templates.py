"""Templates: CRUD, listing, clone, render (the Django-style variables), the API cap, and
the beta preview send that only the `.pre` revision reaches."""

from __future__ import annotations

import pytest

from proxy.revision import BETA_REVISION
from proxy.sandbox import Sandbox
from proxy.openapi.spec import RateLimit, pinned_spec
from proxy.sandbox.operations import OperationLimits, limits_for
from proxy.sandbox.template_language import render, text_version
from proxy.sandbox.template_store import API_TEMPLATE_CAP, Template

PREVIEW_SEND = "create_template_preview_send_job_beta"


def template_body(name: str = "Welcome", html: str = "<p>Hi {{ first_name }}</p>", **attributes) -> dict:
    return {"data": {"type": "template", "attributes": {"name": name, "editor_type": "CODE", "html": html, **attributes}}}


async def create(api, **kwargs) -> dict:
    answer = await api.post("/api/templates", template_body(**kwargs))
    assert answer.status == 201, answer.json
    return answer.data


async def test_a_created_template_reads_back(api, clock):
    created = await create(api, name="Welcome", html="<p>Hi</p>", text="Hi")
    assert created["type"] == "template" and len(created["id"]) == 6
    assert created["links"]["self"] == f"https://a.klaviyo.com/api/templates/{created['id']}"
    read = await api.get(f"/api/templates/{created['id']}")
    attributes = read.data["attributes"]
    assert (attributes["name"], attributes["editor_type"], attributes["html"], attributes["text"], attributes["amp"]) == (
        "Welcome", "CODE", "<p>Hi</p>", "Hi", None,
    )
    assert attributes["created"] == attributes["updated"]


@pytest.mark.parametrize(
    ("attributes", "pointer"),
    [
        ({"editor_type": "SYSTEM_DRAGGABLE"}, "/data/attributes/editor_type"),
        ({"editor_type": "WYSIWYG"}, "/data/attributes/editor_type"),
        ({"html": None}, "/data/attributes/html"),
    ],
)
async def test_create_refuses_what_it_cannot_hold(api, acme, attributes, pointer):
    answer = await api.post("/api/templates", template_body(**attributes))
    assert answer.status == 400
    assert answer.error["source"] == {"pointer": pointer}
    assert len(acme.templates) == 0


async def test_listing_pages_by_name_at_most_ten_and_hides_private_copies(api, acme, clock):
    names = [f"T{n:02d}" for n in range(12)]
    for name in reversed(names):
        await create(api, name=name)
    acme.templates.add(Template("Copy01", "A campaign's copy", "CODE", "<p/>", None, None, clock.now, clock.now, reusable=False))
    walked = await api.walk("/api/templates", {"sort": "name"})
    assert [item["attributes"]["name"] for item in walked] == names
    assert (await api.get("/api/templates", {"page[size]": "11"})).status == 400
    first = await api.get("/api/templates", {"sort": "-name"})
    assert len(first.data) == 10 and first.data[0]["attributes"]["name"] == "T11"


async def test_listing_filters_by_name_and_id(api):
    wanted = await create(api, name="Wanted")
    await create(api, name="Other")
    by_name = await api.get("/api/templates", {"filter": 'equals(name,"Wanted")'})
    by_id = await api.get("/api/templates", {"filter": f'any(id,["{wanted["id"]}"])'})
    assert [item["id"] for item in by_name.data] == [item["id"] for item in by_id.data] == [wanted["id"]]


async def test_update_changes_only_what_it_names(api, clock):
    created = await create(api, name="Before", html="<p>old</p>", text="old")
    clock.advance(5)
    body = {"data": {"type": "template", "id": created["id"], "attributes": {"html": "<p>new</p>", "text": None}}}
    updated = (await api.patch(f"/api/templates/{created['id']}", body)).data["attributes"]
    assert (updated["name"], updated["html"], updated["text"]) == ("Before", "<p>new</p>", None)
    assert updated["updated"] > updated["created"]
    mismatch = await api.patch(f"/api/templates/{created['id']}", {"data": {**body["data"], "id": "other1"}})
    assert mismatch.status == 400


async def test_delete_then_it_is_gone(api):
    created = await create(api)
    deleted = await api.request("DELETE", f"/api/templates/{created['id']}")
    assert (deleted.status, deleted.body) == (204, b"")
    assert (await api.get(f"/api/templates/{created['id']}")).status == 404
    assert (await api.request("DELETE", f"/api/templates/{created['id']}")).status == 404


async def test_clone_copies_under_a_new_id_and_name(api):
    source = await create(api, name="Source", html="<p>x</p>")
    named = await api.post("/api/template-clone", {"data": {"type": "template", "id": source["id"], "attributes": {"name": "Mine"}}})
    unnamed = await api.post("/api/template-clone", {"data": {"type": "template", "id": source["id"], "attributes": {}}})
    assert named.status == unnamed.status == 201
    assert (named.data["attributes"]["name"], unnamed.data["attributes"]["name"]) == ("Mine", "Copy of Source")
    assert named.data["attributes"]["html"] == "<p>x</p>" and named.data["id"] != source["id"]
    missing = await api.post("/api/template-clone", {"data": {"type": "template", "id": "nope00", "attributes": {}}})
    assert missing.status == 400 and missing.error["source"] == {"pointer": "/data/id"}


async def test_render_fills_variables_and_answers_201(api, acme):
    html = "<p>{{ first_name|default:\"friend\" }} / {{ order.items.0 }} / {{ note }}</p>"
    source = await create(api, html=html)
    context = {"first_name": "", "order": {"items": ["<b>Tote</b>"]}}
    body = {"data": {"type": "template", "id": source["id"], "attributes": {"context": context}}}
    rendered = await api.post("/api/template-render", body)
    assert rendered.status == 201
    attributes = rendered.data["attributes"]
    assert attributes["html"] == "<p>friend / &lt;b&gt;Tote&lt;/b&gt; / </p>"
    assert attributes["text"] == "friend / <b>Tote</b> /"
    assert acme.templates.get(source["id"]).html == html, "rendering stores nothing"


@pytest.mark.parametrize(
    ("source", "context", "expected"),
    [
        ("{{ name }}", {"name": "Ada"}, "Ada"),
        ("{{name}}!", {}, "!"),
        ("{{ a.b.c }}", {"a": {"b": {"c": 3}}}, "3"),
        ("{{ missing|default:'x' }}", {}, "x"),
        ("{{ zero|default:fallback }}", {"zero": 0, "fallback": "used"}, "used"),
        ("{{ n|default:5 }}", {}, "5"),
        ("{{ name|title }}", {"name": "ada"}, "ada"),
        ("{% if x %}{{ x }}{% endif %}", {"x": "y"}, "{% if x %}y{% endif %}"),
    ],
)
def test_the_template_language(source, context, expected):
    assert render(source, context, escape=False) == expected


def test_text_version_keeps_line_structure():
    html = "<html><head><style>p {color: red}</style></head><body><h1>Hi</h1><p>A &amp; B</p>x<br>y</body></html>"
    assert text_version(html) == "Hi\nA & B\nx\ny"


async def test_the_api_created_template_cap(api, acme, clock):
    for index in range(API_TEMPLATE_CAP):
        acme.templates.add(Template(f"t{index:05d}", "T", "CODE", "<p/>", None, None, clock.now, clock.now))
    refused = await api.post("/api/templates", template_body())
    assert refused.status == 400 and "1000" in refused.error["detail"]
    clone = await api.post("/api/template-clone", {"data": {"type": "template", "id": "t00000", "attributes": {}}})
    assert clone.status == 400
    await api.request("DELETE", "/api/templates/t00001")
    assert (await api.post("/api/templates", template_body())).status == 201


@pytest.fixture
def beta_sandbox(acme, clock, loaded_spec) -> Sandbox:
    return Sandbox([acme], spec=loaded_spec, beta_spec=pinned_spec(beta=True), clock=clock)


def preview_body(template_id: str, recipients=("ada@example.com",), **attributes) -> dict:
    return {
        "data": {
            "type": "template-preview-send-job",
            "attributes": {"recipients": list(recipients), **attributes},
            "relationships": {"template": {"data": {"type": "template", "id": template_id}}},
        }
    }


async def test_the_preview_send_answers_only_the_beta_revision(beta_sandbox, client_for, acme, clock):
    api = client_for(beta_sandbox)
    template = await create(api)
    beta = {"revision": BETA_REVISION}
    stable = await api.post("/api/template-preview-send-jobs", preview_body(template["id"]))
    assert stable.status == 400 and stable.error["source"] == {"parameter": "revision"}
    queued = await api.post("/api/template-preview-send-jobs", preview_body(template["id"], context={"a": 1}), headers=beta)
    assert queued.status == 202
    assert queued.data["type"] == "template-preview-send-job"
    assert queued.data["attributes"]["status"] == "queued"
    (sent,) = acme.templates.preview_sends
    assert (sent.template_id, sent.recipients, sent.context) == (template["id"], ("ada@example.com",), {"a": 1})


async def test_the_preview_send_is_checked_against_the_beta_spec(beta_sandbox, client_for, clock):
    api = client_for(beta_sandbox)
    template = await create(api)
    beta = {"revision": BETA_REVISION}
    no_recipients = {"data": {**preview_body(template["id"])["data"], "attributes": {}}}
    for body, detail in [
        (no_recipients, "'recipients' is a required property"),  # the beta spec's wording
        (preview_body(template["id"], ["nobody"]), "Invalid email address"),
        (preview_body("nope00"), "does not exist"),
    ]:
        answer = await api.post("/api/template-preview-send-jobs", body, headers=beta)
        assert answer.status == 400 and detail in answer.error["detail"]
        clock.advance(1)  # one preview send a second


async def test_the_preview_send_allows_one_a_second_and_fifteen_a_minute(beta_sandbox, client_for, clock):
    api = client_for(beta_sandbox)
    template = await create(api)
    beta = {"revision": BETA_REVISION}
    statuses = []
    for _ in range(16):
        statuses.append((await api.post("/api/template-preview-send-jobs", preview_body(template["id"]), headers=beta)).status)
        statuses.append((await api.post("/api/template-preview-send-jobs", preview_body(template["id"]), headers=beta)).status)
        clock.advance(1)
    assert statuses[:4] == [202, 429, 202, 429]
    assert statuses.count(202) == 15


def test_the_beta_limits_come_from_the_beta_spec(loaded_spec):
    limits = limits_for(PREVIEW_SEND, loaded_spec, pinned_spec(beta=True))
    assert limits == OperationLimits(RateLimit(burst=1, steady=15, daily=100), None, beta=True)
