"""Campaigns: the required channel filter, inline messages, the template copy an assignment
makes, send jobs moving a campaign through its states, cancel and revert, clone, rate tier."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from proxy.sandbox import DEMO_PRIVATE_KEY, DEMO_PUBLIC_KEY, demo_sandbox
from proxy.sandbox.campaign_store import SEND_SECONDS
from proxy.sandbox.groups import MailingList, Segment

NEWSLETTER, PRO = "LstNws", "SegPro"


def iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, timezone.utc).isoformat()


@pytest.fixture(autouse=True)
def audiences(acme, clock):
    acme.lists.add(MailingList(NEWSLETTER, "Newsletter", clock.now, clock.now))
    acme.segments.add(Segment(PRO, "Pro plan", clock.now, clock.now, {"condition_groups": []}))


def campaign_body(name="July promo", included=(NEWSLETTER,), definition=None, **attributes) -> dict:
    definition = definition or {"channel": "email", "content": {"subject": "Hello", "from_email": "shop@example.com", "from_label": "Shop"}}
    messages = {"data": [{"type": "campaign-message", "attributes": {"definition": definition}}]}
    return {
        "data": {
            "type": "campaign",
            "attributes": {"name": name, "audiences": {"included": list(included)}, "campaign-messages": messages, **attributes},
        }
    }


async def create(api, **kwargs) -> dict:
    answer = await api.post("/api/campaigns", campaign_body(**kwargs))
    assert answer.status == 201, answer.json
    return answer.data


async def message_of(api, campaign_id: str) -> dict:
    (message,) = (await api.get(f"/api/campaigns/{campaign_id}/campaign-messages")).data
    return message


async def new_template(api, html="<p>Hi {{ first_name }}</p>") -> str:
    body = {"data": {"type": "template", "attributes": {"name": "T", "editor_type": "CODE", "html": html}}}
    return (await api.post("/api/templates", body)).data["id"]


async def assign(api, campaign_id: str, template_id: str):
    message = await message_of(api, campaign_id)
    body = {"data": {"type": "campaign-message", "id": message["id"], "relationships": {"template": {"data": {"type": "template", "id": template_id}}}}}
    return await api.post("/api/campaign-message-assign-template", body)


async def ready(api, **kwargs) -> dict:
    campaign = await create(api, **kwargs)
    await assign(api, campaign["id"], await new_template(api))
    return campaign


async def send(api, campaign_id: str):
    return await api.post("/api/campaign-send-jobs", {"data": {"type": "campaign-send-job", "id": campaign_id}})


async def status_of(api, campaign_id: str) -> str:
    return (await api.get(f"/api/campaigns/{campaign_id}")).data["attributes"]["status"]


async def test_a_created_campaign_is_a_draft_with_its_message(api):
    campaign = await create(api, send_options={"use_smart_sending": False})
    attributes = campaign["attributes"]
    assert (attributes["name"], attributes["status"], attributes["archived"]) == ("July promo", "Draft", False)
    assert attributes["audiences"] == {"included": [NEWSLETTER], "excluded": []}
    assert attributes["send_strategy"] == {"method": "immediate"}
    assert attributes["send_options"] == {"use_smart_sending": False}
    assert (attributes["send_time"], attributes["scheduled_at"]) == (None, None)
    message = await message_of(api, campaign["id"])
    assert message["attributes"]["definition"]["label"] == "July promo", "the label defaults to the campaign name"
    assert message["attributes"]["definition"]["content"]["subject"] == "Hello"
    assert message["relationships"]["campaign"]["data"] == {"type": "campaign", "id": campaign["id"]}
    assert "data" not in message["relationships"]["template"], "no template yet"


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        (campaign_body(included=["NoSuch"]), "/data/attributes/audiences/included/0"),
        (campaign_body(included=[]), "/data/attributes/audiences/included"),
        (campaign_body(send_strategy={"method": "static", "datetime": "soon"}), "/data/attributes/send_strategy"),
    ],
)
async def test_create_refuses_unknown_audiences_and_bad_strategies(api, acme, body, pointer):
    answer = await api.post("/api/campaigns", body)
    assert answer.status == 400
    assert answer.error["source"]["pointer"].startswith(pointer)
    assert len(acme.campaigns) == 0


async def test_a_campaign_takes_one_message(api):
    body = campaign_body()
    body["data"]["attributes"]["campaign-messages"]["data"] *= 2
    answer = await api.post("/api/campaigns", body)
    assert answer.status == 400 and "exactly one message" in answer.error["detail"]


async def test_listing_needs_a_channel_filter(api):
    await create(api)
    assert (await api.get("/api/campaigns")).status == 400
    no_channel = await api.get("/api/campaigns", {"filter": 'equals(status,"Draft")'})
    assert no_channel.status == 400 and "channel" in no_channel.error["detail"]
    email = await api.get("/api/campaigns", {"filter": "equals(messages.channel,'email')"})
    sms = await api.get("/api/campaigns", {"filter": "equals(messages.channel,'sms')"})
    assert (len(email.data), len(sms.data)) == (1, 0)


async def test_listing_sorts_filters_and_includes_messages(api, clock):
    first = await create(api, name="First")
    clock.advance(10)
    second = await ready(api, name="Second")
    await send(api, second["id"])
    params = {"filter": "equals(messages.channel,'email')", "sort": "-created_at", "include": "campaign-messages"}
    listing = await api.get("/api/campaigns", params)
    assert [item["id"] for item in listing.data] == [second["id"], first["id"]]
    assert {item["type"] for item in listing.json["included"]} == {"campaign-message"}
    links = listing.data[0]["relationships"]["campaign-messages"]["data"]
    assert links == [{"type": "campaign-message", "id": (await message_of(api, second["id"]))["id"]}]
    drafts = await api.get("/api/campaigns", {"filter": "and(equals(messages.channel,'email'),equals(status,\"Draft\"))"})
    assert [item["id"] for item in drafts.data] == [first["id"]]


async def test_assigning_a_template_attaches_a_private_copy(api, acme):
    campaign = await create(api)
    template_id = await new_template(api, "<p>v1</p>")
    assigned = await assign(api, campaign["id"], template_id)
    assert assigned.status == 200
    attributes = assigned.data["attributes"]
    assert (attributes["channel"], attributes["label"], attributes["content"]["subject"]) == ("email", "July promo", "Hello")
    copy_id = assigned.data["relationships"]["template"]["data"]["id"]
    assert copy_id != template_id and acme.templates.get(copy_id).html == "<p>v1</p>"
    listed = await api.walk("/api/templates", {})
    assert [item["id"] for item in listed] == [template_id], "the copy is not a reusable template"
    again = await assign(api, campaign["id"], template_id)
    assert acme.templates.get(copy_id) is None, "a new assignment replaces the old copy"
    messages = await api.get(f"/api/campaigns/{campaign['id']}/campaign-messages", {"include": "template"})
    (included,) = messages.json["included"]
    assert included["id"] == again.data["relationships"]["template"]["data"]["id"]


async def test_drafts_change_campaign_and_message_fields(api, clock):
    campaign = await create(api)
    clock.advance(5)
    body = {"data": {"type": "campaign", "id": campaign["id"], "attributes": {"name": "Renamed", "audiences": {"included": [PRO]}}}}
    updated = (await api.patch(f"/api/campaigns/{campaign['id']}", body)).data["attributes"]
    assert (updated["name"], updated["audiences"]["included"]) == ("Renamed", [PRO])
    message = await message_of(api, campaign["id"])
    change = {"channel": "email", "content": {"subject": "New subject"}}
    patched = await api.patch(f"/api/campaign-messages/{message['id']}", {"data": {"type": "campaign-message", "id": message["id"], "attributes": {"definition": change}}})
    content = patched.data["attributes"]["definition"]["content"]
    assert (content["subject"], content.get("from_email")) == ("New subject", None), "content is replaced whole"


async def test_sending_needs_a_template(api):
    campaign = await create(api)
    refused = await send(api, campaign["id"])
    assert refused.status == 400 and "no template" in refused.error["detail"]
    assert await status_of(api, campaign["id"]) == "Draft"


async def test_a_send_job_moves_the_campaign_to_sent(api, clock):
    campaign = await ready(api)
    job = await send(api, campaign["id"])
    assert job.status == 202
    assert job.data == {
        "type": "campaign-send-job", "id": campaign["id"], "attributes": {"status": "queued"},
        "links": {"self": f"https://a.klaviyo.com/api/campaign-send-jobs/{campaign['id']}"},
    }
    assert await status_of(api, campaign["id"]) == "Sending"
    clock.advance(SEND_SECONDS)
    assert await status_of(api, campaign["id"]) == "Sent"
    again = await send(api, campaign["id"])
    assert again.status == 400 and "only a draft" in again.error["detail"]


async def test_a_static_strategy_schedules_until_its_time(api, clock):
    campaign = await ready(api, send_strategy={"method": "static", "datetime": iso(clock.now + 3600)})
    await send(api, campaign["id"])
    read = (await api.get(f"/api/campaigns/{campaign['id']}")).data["attributes"]
    assert (read["status"], read["send_time"], read["scheduled_at"]) == ("Scheduled", iso(clock.now + 3600), iso(clock.now))
    message = await message_of(api, campaign["id"])
    assert message["attributes"]["send_times"] == [{"datetime": iso(clock.now + 3600), "is_local": False}]
    clock.advance(3600)
    assert await status_of(api, campaign["id"]) == "Sending"
    clock.advance(SEND_SECONDS)
    assert await status_of(api, campaign["id"]) == "Sent"


async def test_a_past_send_time_is_refused(api, clock):
    campaign = await ready(api, send_strategy={"method": "static", "datetime": iso(clock.now - 60)})
    refused = await send(api, campaign["id"])
    assert refused.status == 400 and "past" in refused.error["detail"]


async def cancel(api, campaign_id: str, action: str = "cancel"):
    body = {"data": {"type": "campaign-send-job", "id": campaign_id, "attributes": {"action": action}}}
    return await api.patch(f"/api/campaign-send-jobs/{campaign_id}", body)


async def test_cancel_is_final_and_revert_makes_a_draft(api, clock):
    later = {"method": "static", "datetime": iso(clock.now + 3600)}
    cancelled, reverted = await ready(api, send_strategy=later), await ready(api, send_strategy=later)
    for campaign in (cancelled, reverted):
        await send(api, campaign["id"])
    assert (await cancel(api, cancelled["id"])).status == 204
    assert (await cancel(api, reverted["id"], "revert")).status == 204
    assert await status_of(api, cancelled["id"]) == "Cancelled"
    reverted_now = (await api.get(f"/api/campaigns/{reverted['id']}")).data["attributes"]
    assert (reverted_now["status"], reverted_now["send_time"]) == ("Draft", None)
    assert (await cancel(api, cancelled["id"], "revert")).status == 400
    draft = await cancel(api, reverted["id"])
    assert draft.status == 400 and "no send job" in draft.error["detail"]
    assert (await cancel(api, "01NOSUCHCAMPAIGN000000000")).status == 404


async def test_only_drafts_change(api):
    campaign = await ready(api)
    await send(api, campaign["id"])
    body = {"data": {"type": "campaign", "id": campaign["id"], "attributes": {"name": "Too late"}}}
    assert (await api.patch(f"/api/campaigns/{campaign['id']}", body)).status == 400
    assert (await assign(api, campaign["id"], await new_template(api))).status == 400


async def test_clone_is_a_draft_with_its_own_template_copy(api, acme):
    source = await ready(api, name="Original")
    await send(api, source["id"])
    clone = await api.post("/api/campaign-clone", {"data": {"type": "campaign", "id": source["id"], "attributes": {"new_name": "Again"}}})
    assert clone.status == 201
    assert (clone.data["attributes"]["name"], clone.data["attributes"]["status"]) == ("Again", "Draft")
    original_copy = (await message_of(api, source["id"]))["relationships"]["template"]["data"]["id"]
    clone_message = await message_of(api, clone.data["id"])
    clone_copy = clone_message["relationships"]["template"]["data"]["id"]
    assert clone_copy != original_copy and acme.templates.get(clone_copy).html == acme.templates.get(original_copy).html
    assert clone_message["attributes"]["definition"]["content"]["subject"] == "Hello"
    unnamed = await api.post("/api/campaign-clone", {"data": {"type": "campaign", "id": source["id"], "attributes": {}}})
    assert unnamed.data["attributes"]["name"] == "Copy of Original"


async def test_campaign_reads_share_the_m_tier(api, clock):
    clock.advance(0.5)
    statuses = [(await api.get("/api/campaigns", {"filter": "equals(messages.channel,'email')"})).status for _ in range(11)]
    assert statuses == [200] * 10 + [429]


async def test_the_demo_content_reads_back_on_spec(loaded_spec, clock, client_for):
    demo = client_for(demo_sandbox(spec=loaded_spec, clock=clock), DEMO_PRIVATE_KEY, DEMO_PUBLIC_KEY)
    campaigns = await demo.walk("/api/campaigns", {"filter": "equals(messages.channel,'email')", "include": "campaign-messages"})
    assert sorted(c["attributes"]["status"] for c in campaigns) == ["Cancelled", "Draft", "Scheduled", "Sent"]
    for campaign in campaigns:
        messages = await demo.get(f"/api/campaigns/{campaign['id']}/campaign-messages", {"include": "template,campaign"})
        assert {item["type"] for item in messages.json["included"]} == {"template", "campaign"}
    assert [t["attributes"]["name"] for t in await demo.walk("/api/templates", {"sort": "name"})] == [
        "Abandoned cart", "Monthly newsletter", "Order follow-up", "Welcome",
    ]


async def test_an_audiences_object_replaces_both_lists(api, acme):
    campaign = await create(api)
    acme.campaigns.get(campaign["id"]).excluded.append(PRO)
    body = {"data": {"type": "campaign", "id": campaign["id"], "attributes": {"audiences": {"included": [PRO]}}}}
    updated = (await api.patch(f"/api/campaigns/{campaign['id']}", body)).data["attributes"]
    assert updated["audiences"] == {"included": [PRO], "excluded": []}
