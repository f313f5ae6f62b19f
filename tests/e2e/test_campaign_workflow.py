"""The scripted legacy workflow, as one legacy client would drive it, end to end:
create template → create campaign from it → get → update subject → schedule → cancel →
clone → list campaigns → recipients."""

from datetime import datetime, timedelta, timezone

from proxy.sandbox.seed import DEMO_PRIVATE_KEY as PRIVATE_KEY

KEY = {"api_key": PRIVATE_KEY}
HTML = "<html><body><p>Hello {{ first_name|default:'there' }}</p></body></html>"


def group_id(sandbox, name: str) -> str:
    (account,) = sandbox.accounts
    return next(group.id for group in (*account.lists, *account.segments) if group.name == name)


async def legacy(response, status: int = 200):
    assert response.status == status, await response.text()
    assert response.content_type == "application/json"
    return await response.json()


async def test_the_scripted_legacy_workflow(proxy, sandbox, new_api):
    newsletter, vip = group_id(sandbox, "Newsletter"), group_id(sandbox, "VIP Customers")

    template = await legacy(await proxy.post("/api/v1/email-templates", params=KEY, data={"name": "Workflow", "html": HTML}))
    assert (template["object"], template["name"], template["html"]) == ("email-template", "Workflow", HTML)

    form = {"list_id": newsletter, "template_id": template["id"], "from_email": "shop@example.com",
            "from_name": "Example Shop", "subject": "Hello there", "name": "Workflow campaign"}
    created = await legacy(await proxy.post("/api/v1/campaigns", params=KEY, data=form))
    assert (created["status"], created["status_id"], created["status_label"]) == ("draft", 2, "Draft")
    assert [item["id"] for item in created["lists"]] == [newsletter]
    assert created["template"]["html"] == HTML
    assert created["template"]["id"] == created["template_id"] != template["id"], "the campaign holds its own copy"

    fetched = await legacy(await proxy.get(f"/api/v1/campaign/{created['id']}", params=KEY))
    assert fetched == created

    updated = await legacy(await proxy.put(f"/api/v1/campaign/{created['id']}", params=KEY, data={"subject": "Hello again"}))
    assert updated["subject"] == "Hello again"
    assert {k: v for k, v in updated.items() if k not in ("subject", "updated")} == {
        k: v for k, v in created.items() if k not in ("subject", "updated")
    }

    send_time = (datetime.now(timezone.utc) + timedelta(days=3)).replace(microsecond=0)
    scheduled = await legacy(
        await proxy.post(f"/api/v1/campaign/{created['id']}/schedule", params=KEY, data={"send_time": f"{send_time:%Y-%m-%d %H:%M:%S}"})
    )
    assert scheduled == {"status": "queued"}
    upstream = (await new_api(f"/api/campaigns/{created['id']}"))["data"]["attributes"]
    assert upstream["status"] == "Scheduled"
    assert upstream["send_strategy"]["method"] == "static"

    cancelled = await legacy(await proxy.post(f"/api/v1/campaign/{created['id']}/cancel", params=KEY))
    assert (cancelled["status"], cancelled["status_label"]) == ("cancelled", "Cancelled")
    assert cancelled["send_time"] == f"{send_time:%Y-%m-%d %H:%M:%S}"
    assert cancelled["sent_at"] is None

    clone = await legacy(
        await proxy.post(f"/api/v1/campaign/{created['id']}/clone", params=KEY, data={"name": "Workflow again", "list_id": vip})
    )
    assert (clone["name"], clone["status"], clone["subject"]) == ("Workflow again", "draft", "Hello again")
    assert [item["id"] for item in clone["lists"]] == [vip]
    assert clone["template"]["html"] == HTML and clone["template_id"] not in (template["id"], created["template_id"])

    listing = await legacy(await proxy.get("/api/v1/campaigns", params={**KEY, "count": "2"}))
    assert [item["id"] for item in listing["data"]] == [clone["id"], created["id"]], "newest first"
    assert listing["data"][1]["status"] == "cancelled"

    # A draft has reached nobody: it has no recipients yet.
    recipients = await legacy(await proxy.get(f"/api/v1/campaign/{clone['id']}/recipients", params=KEY))
    assert (recipients["data"], recipients["next_offset"]) == ([], None)
