"""v1 campaigns through the proxy and the sandbox: exact legacy shapes, the status
vocabulary, the concurrent read, ordered writes that report partial failures, recipients."""

import asyncio
import json
from datetime import datetime, timedelta, timezone

import pytest
from test_legacy_client import call, client  # noqa: F401  (the official legacy client fixture)

from proxy.app import create_app
from proxy.config import Settings
from proxy.sandbox.seed import DEMO_PRIVATE_KEY as PRIVATE_KEY
from proxy.sandbox.seed import DEMO_PUBLIC_KEY as PUBLIC_KEY

KEY = {"api_key": PRIVATE_KEY}
LISTED_KEYS = [
    "object", "id", "name", "subject", "from_email", "from_name", "lists", "excluded_lists", "template_id",
    "status", "status_id", "status_label", "sent_at", "send_time", "created", "updated", "num_recipients",
    "is_segmented", "campaign_type", "message_type",
]  # fmt: skip
CAMPAIGN_KEYS = [*LISTED_KEYS[:8], "template", *LISTED_KEYS[8:]]
LIST_KEYS = ["object", "id", "name", "list_type", "folder", "created", "updated", "person_count"]
RECIPIENT_KEYS = ["email", "status", "customer_id", "variation_id"]


def account_of(sandbox):
    (account,) = sandbox.accounts
    return account


def demo_campaign(sandbox, name: str):
    return next(c for c in account_of(sandbox).campaigns if c.name == name)


def sending_to(sandbox, campaign) -> set[str]:
    """The emailable members of a campaign's audience (none excluded, none suppressed)."""
    account = account_of(sandbox)

    def members(ids):
        groups = [account.lists.get(i) or account.segments.get(i) for i in ids]
        return {m.profile_id for group in groups if group for m in group.members.ordered()}

    profiles = [account.profiles.get(i) for i in members(campaign.included) - members(campaign.excluded)]
    return {p.id for p in profiles if p and p.email and not p.subscriptions.email_suppressions}


def group_id(sandbox, name: str) -> str:
    account = account_of(sandbox)
    return next(group.id for group in (*account.lists, *account.segments) if group.name == name)


async def ok(response):
    assert response.status == 200, await response.text()
    assert response.content_type == "application/json"
    return await response.json()


async def error(response, status: int) -> str:
    assert response.status == status, await response.text()
    body = await response.json()
    assert list(body) == ["status", "message"] and body["status"] == status
    return body["message"]


def assert_legacy_list(item: dict, kind: str) -> None:
    assert list(item) == LIST_KEYS
    assert (item["object"], item["list_type"], item["folder"]) == ("list", kind, None)
    assert type(item["person_count"]) is int, "legacy readers sum person_count"
    assert len(item["created"]) == 19 and item["created"][10] == " "


async def test_the_listing_is_newest_first_with_the_status_vocabulary(proxy, sandbox, contract):
    body = await ok(await proxy.get("/api/v1/campaigns", params=KEY))
    assert list(body) == ["end", "object", "page_size", "start", "total", "data", "page"]
    assert [c["name"] for c in body["data"]] == ["Flash sale", "Weekend sale", "Summer preview", "Spring launch"]
    for campaign in body["data"]:
        assert list(campaign) == LISTED_KEYS
        assert (campaign["object"], campaign["campaign_type"], campaign["message_type"]) == ("campaign", "Regular", "email")
        assert (campaign["from_email"], campaign["from_name"]) == ("news@shop.example.com", "Example Shop")
    states = {c["name"]: (c["status"], c["status_id"], c["status_label"], c["num_recipients"]) for c in body["data"]}
    sent = states["Spring launch"][3]
    assert states == {
        "Spring launch": ("sent", 1, "Sent", sent),
        "Summer preview": ("scheduled", 3, "Scheduled", 0),
        "Weekend sale": ("draft", 2, "Draft", 0),
        "Flash sale": ("cancelled", 5, "Cancelled", 0),
    }
    assert type(sent) is int and sent > 0
    spring = body["data"][3]
    assert spring["sent_at"] == spring["send_time"] and len(spring["sent_at"]) == 19
    seeded = demo_campaign(sandbox, "Spring launch")
    assert spring["template_id"] == account_of(sandbox).campaigns.message(seeded.message_ids[0]).template_id
    assert [item["name"] for item in spring["lists"]] == ["Newsletter"]
    assert_legacy_list(spring["lists"][0], "list")
    assert [item["name"] for item in spring["excluded_lists"]] == ["Outdoor fans"]
    assert_legacy_list(spring["excluded_lists"][0], "segment")
    assert (spring["is_segmented"], body["data"][1]["is_segmented"]) == (False, True)
    assert body["data"][1]["send_time"] is None and body["data"][1]["sent_at"] is None
    campaigns_call = contract.requests[0]
    assert ("filter", "equals(messages.channel,'email')") in campaigns_call.query
    assert ("include", "campaign-messages") in campaigns_call.query and ("sort", "-created_at") in campaigns_call.query


async def test_listing_pages_and_caps_count(proxy):
    page = await ok(await proxy.get("/api/v1/campaigns", params={**KEY, "page": "1", "count": "3"}))
    assert [c["name"] for c in page["data"]] == ["Spring launch"]
    assert (page["start"], page["end"], page["page_size"], page["total"], page["page"]) == (3, 3, 1, 4, 1)
    capped = await ok(await proxy.get("/api/v1/campaigns", params={**KEY, "count": "500"}))
    assert capped["page_size"] == 4


async def test_the_legacy_python_client_lists_campaigns(client):  # noqa: F811
    response = await call(client.Campaigns.get_campaigns, page=0, count=2)
    assert response.status_code == 200
    assert [c["name"] for c in response.data["data"]] == ["Flash sale", "Weekend sale"]


async def test_a_campaign_reads_in_full(proxy, sandbox):
    seeded = demo_campaign(sandbox, "Spring launch")
    campaign = await ok(await proxy.get(f"/api/v1/campaign/{seeded.id}", params=KEY))
    assert list(campaign) == CAMPAIGN_KEYS
    template = account_of(sandbox).templates.get(campaign["template_id"])
    assert campaign["template"] == {"object": "email-template", "id": template.id, "html": template.html}
    assert (campaign["subject"], campaign["name"]) == ("Spring arrivals are here", "Spring launch")


class InFlight:
    """A transport that yields before each call, so concurrent calls overlap, and counts them."""

    def __init__(self, inner):
        self.inner, self.now, self.most = inner, 0, 0

    async def send(self, request):
        self.now += 1
        self.most = max(self.most, self.now)
        await asyncio.sleep(0)
        try:
            return await self.inner.send(request)
        finally:
            self.now -= 1

    async def aclose(self):
        await self.inner.aclose()


async def test_the_read_fans_out_concurrently(aiohttp_client, contract, sandbox):
    probe = InFlight(contract)
    proxy = await aiohttp_client(create_app(Settings(), transport=probe))
    campaign = await ok(await proxy.get(f"/api/v1/campaign/{demo_campaign(sandbox, 'Spring launch').id}", params=KEY))
    assert campaign["lists"] and campaign["excluded_lists"]
    assert probe.most == 3, "campaign and messages together, then lists and segments, then the counts of all three"
    assert [r.path for r in contract.requests[:2]] == [f"/api/campaigns/{campaign['id']}", f"/api/campaigns/{campaign['id']}/campaign-messages"]
    assert {r.path for r in contract.requests[2:4]} == {"/api/lists", "/api/segments"}
    counted = {campaign["id"], campaign["lists"][0]["id"], campaign["excluded_lists"][0]["id"]}
    assert {r.path.rsplit("/", 1)[1] for r in contract.requests[4:]} == counted


async def test_an_unknown_campaign_is_a_v1_404(proxy):
    assert await error(await proxy.get("/api/v1/campaign/01NOSUCHCAMPAIGN000000000", params=KEY), 404) == (
        "The requested resource does not exist."
    )


def create_form(sandbox, **fields) -> dict:
    welcome = next(t for t in account_of(sandbox).templates.library() if t.name == "Welcome")
    return {"list_id": group_id(sandbox, "Newsletter"), "template_id": welcome.id, "from_email": "shop@example.com",
            "from_name": "Shop", "subject": "Hello", **fields}  # fmt: skip


async def test_create_defaults_the_name_to_the_subject_and_maps_the_options(proxy, sandbox, contract):
    form = create_form(sandbox, use_smart_sending="False", add_google_analytics="True")
    created = await ok(await proxy.post("/api/v1/campaigns", params=KEY, data=form))
    assert list(created) == CAMPAIGN_KEYS
    assert (created["name"], created["subject"], created["from_name"]) == ("Hello", "Hello", "Shop")
    upstream = demo_campaign(sandbox, "Hello")
    assert upstream.send_options["use_smart_sending"] is False
    assert upstream.tracking_options["add_tracking_params"] is True
    assert [r.method + " " + r.path.split("/")[2] for r in contract.requests[:3]] == [
        "POST campaigns", "GET campaigns", "POST campaign-message-assign-template",
    ]


async def test_create_needs_the_legacy_fields(proxy, sandbox, contract):
    form = create_form(sandbox)
    del form["template_id"]
    assert await error(await proxy.post("/api/v1/campaigns", params=KEY, data=form), 400) == "Missing required parameter: template_id."
    assert contract.requests == []


async def test_a_failed_first_step_is_reported_as_it_is(proxy, sandbox):
    message = await error(await proxy.post("/api/v1/campaigns", params=KEY, data=create_form(sandbox, list_id="NoList")), 400)
    assert "is not a list or segment" in message and "already done" not in message


async def test_a_later_failure_names_the_step_and_what_was_done(proxy, sandbox):
    message = await error(await proxy.post("/api/v1/campaigns", params=KEY, data=create_form(sandbox, template_id="NoTmpl", name="Half")), 400)
    half = demo_campaign(sandbox, "Half")
    assert f"failed step: copy template NoTmpl into campaign {half.id}" in message
    assert message.endswith("already done: create the campaign)"), "reads are no changes"
    assert half.status == "Draft", "the draft stays, as the message says"


async def test_update_touches_each_resource_the_fields_need(proxy, sandbox, contract):
    draft = demo_campaign(sandbox, "Weekend sale")
    vip = group_id(sandbox, "VIP Customers")
    order_follow_up = next(t for t in account_of(sandbox).templates.library() if t.name == "Order follow-up")
    form = {"name": "Weekend sale!", "list_id": vip, "from_name": "The Shop", "template_id": order_follow_up.id}
    updated = await ok(await proxy.put(f"/api/v1/campaign/{draft.id}", params=KEY, data=form))
    assert (updated["name"], updated["from_name"], updated["subject"]) == ("Weekend sale!", "The Shop", "20% off this weekend")
    assert [item["id"] for item in updated["lists"]] == [vip]
    assert updated["template"]["html"] == order_follow_up.html
    writes = [(r.method, r.path) for r in contract.requests if r.method != "GET"]
    message_id = draft.message_ids[0]
    assert writes == [
        ("PATCH", f"/api/campaigns/{draft.id}"),
        ("PATCH", f"/api/campaign-messages/{message_id}"),
        ("POST", "/api/campaign-message-assign-template"),
    ]


async def test_a_sent_campaign_cannot_change(proxy, sandbox):
    sent = demo_campaign(sandbox, "Spring launch")
    message = await error(await proxy.put(f"/api/v1/campaign/{sent.id}", params=KEY, data={"name": "Too late"}), 400)
    assert "only a draft" in message


async def test_send_queues_and_the_campaign_starts_sending(proxy, sandbox):
    draft = demo_campaign(sandbox, "Weekend sale")
    assert await ok(await proxy.post(f"/api/v1/campaign/{draft.id}/send", params=KEY)) == {"status": "queued"}
    sending = await ok(await proxy.get(f"/api/v1/campaign/{draft.id}", params=KEY))
    assert (sending["status"], sending["status_id"], sending["status_label"]) == ("sending", 4, "Sending")
    assert sending["send_time"] and sending["sent_at"] is None
    assert sending["num_recipients"] == len(sending_to(sandbox, draft)) > 0, "its audience at the send"


@pytest.mark.parametrize("send_time", ["tomorrow", "2020-13-01 00:00:00"])
async def test_schedule_needs_a_utc_time(proxy, sandbox, contract, send_time):
    draft = demo_campaign(sandbox, "Weekend sale")
    message = await error(await proxy.post(f"/api/v1/campaign/{draft.id}/schedule", params=KEY, data={"send_time": send_time}), 400)
    assert message.startswith("Invalid value for send_time")
    assert contract.requests == []


async def test_schedule_in_the_past_reports_the_time_it_already_set(proxy, sandbox):
    draft = demo_campaign(sandbox, "Weekend sale")
    past = (datetime.now(timezone.utc) - timedelta(days=1)).strftime("%Y-%m-%d %H:%M:%S")
    message = await error(await proxy.post(f"/api/v1/campaign/{draft.id}/schedule", params=KEY, data={"send_time": past}), 400)
    assert "in the past" in message
    assert f"failed step: queue campaign {draft.id}; already done: set the send time of campaign {draft.id}" in message


async def test_cancel_of_a_draft_is_refused(proxy, sandbox):
    draft = demo_campaign(sandbox, "Weekend sale")
    assert "no send job" in await error(await proxy.post(f"/api/v1/campaign/{draft.id}/cancel", params=KEY), 400)


async def test_clone_without_a_list_keeps_the_audience(proxy, sandbox):
    source = demo_campaign(sandbox, "Spring launch")
    clone = await ok(await proxy.post(f"/api/v1/campaign/{source.id}/clone", params=KEY, data={"name": "Spring again"}))
    assert (clone["name"], clone["status"], clone["num_recipients"]) == ("Spring again", "draft", 0)
    assert [i["name"] for i in clone["lists"]] == ["Newsletter"] and [i["name"] for i in clone["excluded_lists"]] == ["Outdoor fans"]


async def members(new_api, path: str) -> dict[str, str]:
    return {p["id"]: p["attributes"]["email"] for p in (await new_api(path, **{"page[size]": "100"}))["data"]}


def emailable_at_send(sandbox, campaign) -> set[str]:
    """Ids of the demo profiles no global email suppression kept from the send."""
    profiles = sandbox.account(PUBLIC_KEY).profiles
    return {p.id for p in profiles if not any(s.timestamp <= campaign.send_time for s in p.subscriptions.email_suppressions)}


async def test_recipients_are_the_audience_at_the_send_minus_exclusions(proxy, sandbox, new_api):
    spring = demo_campaign(sandbox, "Spring launch")
    newsletter = await members(new_api, f"/api/lists/{spring.included[0]}/profiles")
    outdoor = await members(new_api, f"/api/segments/{spring.excluded[0]}/profiles")
    reachable = emailable_at_send(sandbox, spring)
    body = await ok(await proxy.get(f"/api/v1/campaign/{spring.id}/recipients", params=KEY))
    assert list(body) == ["object", "count", "data", "next_offset"]
    assert (body["object"], body["next_offset"]) == ("$list", None)
    expected = {k: v for k, v in newsletter.items() if k not in outdoor and k in reachable}
    assert len(expected) < len(newsletter)  # some were suppressed before the send
    assert {r["customer_id"]: r["email"] for r in body["data"]} == expected
    assert body["count"] == len(body["data"])
    for recipient in body["data"]:
        assert list(recipient) == RECIPIENT_KEYS
        assert (recipient["status"], recipient["variation_id"]) == ("Sent", spring.message_ids[0])


async def test_recipients_page_by_offset_each_person_once(proxy, sandbox, new_api):
    spring = demo_campaign(sandbox, "Spring launch")
    spring.included.append(group_id(sandbox, "VIP Customers"))  # overlaps the newsletter
    everyone = await ok(await proxy.get(f"/api/v1/campaign/{spring.id}/recipients", params=KEY))
    pages, offset = [], ""
    while offset is not None:
        page = await ok(await proxy.get(f"/api/v1/campaign/{spring.id}/recipients", params={**KEY, "count": "4", "offset": offset}))
        assert page["count"] <= 4
        pages += page["data"]
        offset = page["next_offset"]
    assert pages == everyone["data"]
    assert len({r["customer_id"] for r in pages}) == len(pages)
    descending = await ok(await proxy.get(f"/api/v1/campaign/{spring.id}/recipients", params={**KEY, "sort": "desc"}))
    assert {r["customer_id"] for r in descending["data"]} == {r["customer_id"] for r in pages}
    assert descending["data"] != pages


async def test_a_bad_offset_is_a_v1_400(proxy, sandbox):
    spring = demo_campaign(sandbox, "Spring launch")
    message = await error(await proxy.get(f"/api/v1/campaign/{spring.id}/recipients", params={**KEY, "offset": "garbage"}), 400)
    assert message.startswith("Invalid value for offset")


async def test_the_legacy_python_client_pages_recipients(client, sandbox):  # noqa: F811
    sent = demo_campaign(sandbox, "Spring launch")
    first = await call(client.Campaigns.get_campaign_recipients, sent.id, count=2)
    assert first.status_code == 200 and first.data["count"] == 2
    assert {r["status"] for r in first.data["data"]} == {"Sent"}
    second = await call(client.Campaigns.get_campaign_recipients, sent.id, count=2, offset=first.data["next_offset"])
    assert not {r["customer_id"] for r in first.data["data"]} & {r["customer_id"] for r in second.data["data"]}


@pytest.mark.parametrize("name", ["Summer preview", "Weekend sale", "Flash sale"])
async def test_unsent_campaigns_have_no_recipients(proxy, sandbox, contract, name):
    """Scheduled, draft and cancelled campaigns reached nobody, whoever their audience holds."""
    campaign = demo_campaign(sandbox, name)
    body = await ok(await proxy.get(f"/api/v1/campaign/{campaign.id}/recipients", params=KEY))
    assert body == {"object": "$list", "count": 0, "data": [], "next_offset": None}
    assert not any(r.path.endswith("/profiles") for r in contract.requests)


async def test_people_who_joined_after_the_send_are_not_recipients(proxy, sandbox):
    spring = demo_campaign(sandbox, "Spring launch")
    newsletter = sandbox.account(PUBLIC_KEY).lists.get(spring.included[0])
    before = await ok(await proxy.get(f"/api/v1/campaign/{spring.id}/recipients", params=KEY))
    latecomer = next(p for p in sandbox.account(PUBLIC_KEY).profiles if p.id not in newsletter.members and p.email)
    newsletter.members.add(latecomer.id, spring.send_time + 60)
    after = await ok(await proxy.get(f"/api/v1/campaign/{spring.id}/recipients", params=KEY))
    assert after["data"] == before["data"] and latecomer.id not in {r["customer_id"] for r in after["data"]}


async def test_update_writes_the_whole_content_and_keeps_excluded_audiences(proxy, sandbox, contract):
    """The sandbox replaces a nested object whole (the stricter reading of the spec), so an
    update that sent only the changed fields would lose the others."""
    draft = demo_campaign(sandbox, "Weekend sale")
    outdoor, vip = group_id(sandbox, "Outdoor fans"), group_id(sandbox, "VIP Customers")
    draft.excluded.append(outdoor)
    before = await ok(await proxy.get(f"/api/v1/campaign/{draft.id}", params=KEY))
    updated = await ok(await proxy.put(f"/api/v1/campaign/{draft.id}", params=KEY, data={"list_id": vip, "subject": "Last day"}))
    assert [item["id"] for item in updated["lists"]] == [vip]
    assert [item["id"] for item in updated["excluded_lists"]] == [outdoor]
    assert (updated["subject"], updated["from_email"], updated["from_name"]) == ("Last day", before["from_email"], before["from_name"])
    (message_patch,) = [json.loads(r.body) for r in contract.requests if r.method == "PATCH" and "campaign-messages" in r.path]
    content = message_patch["data"]["attributes"]["definition"]["content"]
    assert {"subject", "from_email", "from_label"} <= set(content)
