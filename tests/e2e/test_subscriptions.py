"""Consent on lists through the sandbox: subscribe (single vs double opt-in), the
subscription check, list-scoped unsubscribe, and sign-up form posts."""

from __future__ import annotations

import json
from dataclasses import dataclass

import orjson
import pytest
from list_helpers import (
    NOT_FOUND,
    PRIVATE_KEY,
    account,
    assert_empty_200,
    demo_list,
    new_members,
    v2,
)

from proxy.backends import memory_state
from proxy.config import Settings
from proxy.engine.dispatch import Engine
from proxy.handlers.registry import HANDLERS
from proxy.legacy.request import parse_request
from proxy.mapping.table import load_table
from proxy.newapi.messages import UpstreamRequest, UpstreamResponse
from proxy.openapi.contract import ContractTransport
from proxy.sandbox.seed import DEMO_PUBLIC_KEY as PUBLIC_KEY
from proxy.upstream.client import UpstreamClient

NO_PUBLIC_KEY = "A public key is required: post with ?a=<public key> or set KLP_PUBLIC_KEY."


def jobs(contract, kind: str) -> list[dict]:
    path = f"/api/profile-subscription-bulk-{kind}-jobs"
    return [json.loads(r.body)["data"] for r in contract.requests if r.path == path]


async def test_single_opt_in_subscribes_at_once_and_answers_the_members(proxy, sandbox, contract, after_jobs):
    vip = demo_list(sandbox, "VIP Customers")
    payload = {"profiles": [{"email": "joiner@example.com", "$first_name": "Jo"}, {"phone_number": "+15005550006", "sms_consent": True}]}
    response = await v2(proxy, "POST", f"/api/v2/list/{vip.id}/subscribe", payload)
    profiles = account(sandbox).profiles
    await after_jobs()
    joiner, texter = profiles.find("email", "joiner@example.com"), profiles.find("phone_number", "+15005550006")
    assert await response.json() == [{"id": joiner.id, "email": "joiner@example.com"}, {"id": texter.id, "phone_number": "+15005550006"}]
    assert joiner.id in vip.members and texter.id in vip.members
    assert joiner.first_name == "Jo"
    assert (joiner.subscriptions.email_marketing.state, texter.subscriptions.sms_marketing.state) == ("SUBSCRIBED", "SUBSCRIBED")
    (job,) = jobs(contract, "create")
    assert job["relationships"]["list"]["data"]["id"] == vip.id
    assert [entry["id"] for entry in job["attributes"]["profiles"]["data"]] == [joiner.id, texter.id]


async def test_double_opt_in_answers_an_empty_array_and_leaves_people_pending(proxy, sandbox, after_jobs):
    newsletter = demo_list(sandbox, "Newsletter")
    response = await v2(proxy, "POST", f"/api/v2/list/{newsletter.id}/subscribe", {"profiles": [{"email": "maybe@example.com"}]})
    assert (response.status, await response.json()) == (200, [])
    await after_jobs()
    maybe = account(sandbox).profiles.find("email", "maybe@example.com")
    assert maybe.id in newsletter.pending and maybe.id not in newsletter.members
    assert maybe.subscriptions.email_marketing.state == "NEVER_SUBSCRIBED"


async def test_a_phone_without_sms_consent_is_not_subscribed(proxy, sandbox, contract):
    vip = demo_list(sandbox, "VIP Customers")
    payload = {"profiles": [{"phone_number": "+15005550007"}, {"email": "both@example.com", "phone_number": "+15005550008"}]}
    body = await (await v2(proxy, "POST", f"/api/v2/list/{vip.id}/subscribe", payload)).json()
    assert [record.get("email") for record in body] == ["both@example.com"]
    (job,) = jobs(contract, "create")
    (entry,) = job["attributes"]["profiles"]["data"]
    assert entry["attributes"] == {"email": "both@example.com", "subscriptions": {"email": {"marketing": {"consent": "SUBSCRIBED"}}}}


async def test_subscribing_again_duplicates_nothing(proxy, sandbox, after_jobs):
    vip = demo_list(sandbox, "VIP Customers")
    payload = {"profiles": [{"email": "again@example.com"}]}
    first = await (await v2(proxy, "POST", f"/api/v2/list/{vip.id}/subscribe", payload)).json()
    await after_jobs()
    counts = (len(account(sandbox).profiles), len(vip.members))
    assert await (await v2(proxy, "POST", f"/api/v2/list/{vip.id}/subscribe", payload)).json() == first
    await after_jobs()
    assert (len(account(sandbox).profiles), len(vip.members)) == counts


async def test_subscribing_to_an_unknown_list_is_a_404_before_anything_is_written(proxy, contract):
    response = await v2(proxy, "POST", "/api/v2/list/NoSuch/subscribe", {"profiles": [{"email": "x@example.com"}]})
    assert (response.status, await response.json()) == (404, NOT_FOUND)
    assert [r.path for r in contract.requests] == ["/api/lists/NoSuch"]


@pytest.mark.parametrize("form", ["GET", "POST"])
async def test_the_check_keeps_subscribed_unsuppressed_members(proxy, sandbox, form):
    newsletter = demo_list(sandbox, "Newsletter")
    profiles = account(sandbox).profiles
    in_list = [profiles.get(m.profile_id) for m in newsletter.members.ordered()]
    subscribed = next(p for p in in_list if p.subscriptions.email_marketing.state == "SUBSCRIBED")
    suppressed = next(p for p in in_list if p.subscriptions.email_suppressions)
    left = next(p for p in profiles if p.subscriptions.email_list_suppressions)
    emails = [subscribed.email, suppressed.email, left.email, "stranger@example.com"]
    path = f"/api/v2/list/{newsletter.id}/{'subscribe' if form == 'GET' else 'get-list-subscriptions'}"
    body = await (await v2(proxy, form, path, {"emails": emails})).json()
    assert [record["id"] for record in body] == [subscribed.id]
    assert list(body[0])[:3] == ["created", "id", "email"]


async def test_unsubscribe_touches_only_members_and_only_this_list(proxy, sandbox, contract, after_jobs):
    newsletter = demo_list(sandbox, "Newsletter")
    profiles = account(sandbox).profiles
    subscribed = [p for p in profiles if p.subscriptions.email_marketing.state == "SUBSCRIBED"]
    member = next(p for p in subscribed if p.id in newsletter.members)
    outsider = next(p for p in subscribed if p.id not in newsletter.members)
    response = await v2(proxy, "DELETE", f"/api/v2/list/{newsletter.id}/subscribe", {"emails": [member.email, outsider.email]})
    await assert_empty_200(response)
    await after_jobs()
    assert member.id not in newsletter.members
    assert [s.list_id for s in member.subscriptions.email_list_suppressions] == [newsletter.id]
    assert member.subscriptions.email_marketing.state == "SUBSCRIBED"  # still subscribed elsewhere
    assert outsider.subscriptions.email_marketing.state == "SUBSCRIBED"  # never sent to the job
    (job,) = jobs(contract, "delete")
    assert [entry["attributes"]["email"] for entry in job["attributes"]["profiles"]["data"]] == [member.email]
    assert job["relationships"]["list"]["data"]["id"] == newsletter.id


async def test_unsubscribe_jobs_hold_a_hundred_profiles_and_each_profile_once(proxy, sandbox, contract, after_jobs):
    newsletter = demo_list(sandbox, "Newsletter")
    joined = new_members(sandbox, newsletter, 150)
    account(sandbox).profiles.set_identifier(joined[0], "phone_number", "+15005550009")
    payload = {"emails": [p.email for p in joined], "phone_numbers": ["+15005550009"]}
    await assert_empty_200(await v2(proxy, "DELETE", f"/api/v2/list/{newsletter.id}/subscribe", payload))
    await after_jobs()
    sent = jobs(contract, "delete")
    assert sorted(len(job["attributes"]["profiles"]["data"]) for job in sent) == [50, 100]
    entries = [entry["attributes"] for job in sent for entry in job["attributes"]["profiles"]["data"]]
    assert len(entries) == 150  # named twice, unsubscribed once on both channels
    (both,) = [entry for entry in entries if "phone_number" in entry]
    assert set(both["subscriptions"]) == {"email", "sms"}
    assert not {p.id for p in joined} & {m.profile_id for m in newsletter.members.ordered()}


@dataclass
class PushTokenMember:
    """An upstream whose list has one member, found by its push token alone (sandbox
    profiles hold no push tokens)."""

    async def send(self, request: UpstreamRequest) -> UpstreamResponse:
        if request.method == "DELETE":
            return UpstreamResponse(204)
        attributes = {"email": None, "phone_number": None, "joined_group_at": "2024-01-01T00:00:00+00:00"}
        member = {"type": "profile", "id": "01PUSH", "attributes": attributes, "links": {"self": "https://a.klaviyo.com"}}
        return UpstreamResponse(200, {}, orjson.dumps({"data": [member], "links": {"self": "https://a.klaviyo.com"}}))

    async def aclose(self) -> None:
        pass


async def test_members_named_by_a_push_token_alone_are_only_taken_off_the_list(spec):
    upstream = ContractTransport(PushTokenMember(), spec)
    engine = Engine(load_table(Settings().mappings_dir), Settings(), UpstreamClient(upstream), HANDLERS, state=memory_state().values)
    path = "/api/v2/list/LstAbc/subscribe"
    body = orjson.dumps({"api_key": PRIVATE_KEY, "push_tokens": ["device-1"]})
    response = await engine.handle(engine.match("DELETE", path), parse_request("DELETE", path, [], {}, body), 0)
    assert (response.status, response.body) == (200, b"")
    lookup, removal = upstream.requests
    assert dict(lookup.query)["filter"] == 'any(push_token,["device-1"])'
    assert (removal.method, removal.path) == ("DELETE", "/api/lists/LstAbc/relationships/profiles")
    assert json.loads(removal.body) == {"data": [{"type": "profile", "id": "01PUSH"}]}
    assert upstream.violations == []


async def test_a_sign_up_form_post_subscribes_through_the_client_endpoint(proxy, sandbox, contract, after_jobs):
    vip = demo_list(sandbox, "VIP Customers")
    form = {"g": vip.id, "email": "footer@example.com", "$first_name": "Foot", "$source": "Footer", "$fields": "$source,$first_name"}
    response = await proxy.post("/ajax/subscriptions/subscribe", params={"a": PUBLIC_KEY}, data=form)
    assert response.status == 200
    assert await response.json() == {"success": True, "data": {"is_subscribed": False, "email": "footer@example.com"}, "errors": []}
    (request,) = contract.requests
    assert (request.path, dict(request.query)["company_id"]) == ("/client/subscriptions", PUBLIC_KEY)
    assert request.header("Authorization") is None
    body = json.loads(request.body)["data"]
    assert body["attributes"]["custom_source"] == "Footer"
    await after_jobs()
    footer = account(sandbox).profiles.find("email", "footer@example.com")
    assert (footer.first_name, footer.properties) == ("Foot", {"$source": "Footer"})
    assert footer.id in vip.members and footer.subscriptions.email_marketing.state == "SUBSCRIBED"


async def test_a_sign_up_form_uses_the_configured_public_key(make_proxy, sandbox, contract, after_jobs):
    proxy = await make_proxy(public_key=PUBLIC_KEY)
    newsletter = demo_list(sandbox, "Newsletter")
    response = await proxy.post("/ajax/subscriptions/subscribe", data={"g": newsletter.id, "$email": "doi@example.com"})
    assert (await response.json())["success"] is True
    assert dict(contract.requests[0].query)["company_id"] == PUBLIC_KEY
    await after_jobs()
    assert account(sandbox).profiles.find("email", "doi@example.com").id in newsletter.pending


async def test_a_sidecar_key_subscribes_through_the_server_side_job(make_proxy, sandbox, contract, after_jobs):
    proxy = await make_proxy(private_key=PRIVATE_KEY)
    vip = demo_list(sandbox, "VIP Customers")
    response = await proxy.post("/ajax/subscriptions/subscribe", data={"g": vip.id, "email": "sidecar@example.com"})
    assert (await response.json())["success"] is True
    assert "/client/subscriptions" not in {r.path for r in contract.requests}
    assert jobs(contract, "create")
    await after_jobs()
    assert account(sandbox).profiles.find("email", "sidecar@example.com").id in vip.members


@pytest.mark.parametrize(
    ("query", "form", "status", "message"),
    [
        ({"a": PUBLIC_KEY}, {"email": "x@example.com"}, 400, "Missing required parameter: g."),
        ({"a": PUBLIC_KEY}, {"g": "LstAbc", "$first_name": "Nobody"}, 400, "An email address is required."),
        ({}, {"g": "LstAbc", "email": "x@example.com"}, 400, NO_PUBLIC_KEY),
        ({"a": PUBLIC_KEY}, {"g": "NoSuch", "email": "x@example.com"}, 404, "The requested resource does not exist."),
    ],
)
async def test_sign_up_form_errors_speak_the_forms_dialect(proxy, query, form, status, message):
    response = await proxy.post("/ajax/subscriptions/subscribe", params=query, data=form)
    assert (response.status, await response.json()) == (status, {"success": False, "errors": [message]})


async def test_subscribe_never_answers_a_profile_the_job_leaves_suppressed(proxy, sandbox, after_jobs):
    """A bounce is not lifted by subscribing: the bounced person is not "now on the list"."""
    vip = demo_list(sandbox, "VIP Customers")
    bounced = next(p for p in account(sandbox).profiles if any(s.reason == "HARD_BOUNCE" for s in p.subscriptions.email_suppressions))
    payload = {"profiles": [{"email": bounced.email}, {"email": "fresh@example.com"}]}
    body = await (await v2(proxy, "POST", f"/api/v2/list/{vip.id}/subscribe", payload)).json()
    assert [record["email"] for record in body] == ["fresh@example.com"]
    await after_jobs()
    assert [s.reason for s in bounced.subscriptions.email_suppressions] == ["HARD_BOUNCE"]


async def test_a_sign_up_form_with_a_phone_and_no_sms_consent_says_nothing_was_subscribed(proxy, sandbox, contract):
    vip = demo_list(sandbox, "VIP Customers")
    form = {"g": vip.id, "phone_number": "+15005550010", "$first_name": "Texter"}
    response = await proxy.post("/ajax/subscriptions/subscribe", params={"a": PUBLIC_KEY}, data=form)
    body = await response.json()
    assert body["success"] is False and "SMS consent" in body["errors"][0]
    assert contract.requests == []


async def test_a_sign_up_form_with_sms_consent_subscribes_the_phone(proxy, sandbox, contract, after_jobs):
    vip = demo_list(sandbox, "VIP Customers")
    form = {"g": vip.id, "phone_number": "+15005550011", "$consent": "sms"}
    response = await proxy.post("/ajax/subscriptions/subscribe", params={"a": PUBLIC_KEY}, data=form)
    assert (await response.json())["success"] is True
    await after_jobs()
    texter = account(sandbox).profiles.find("phone_number", "+15005550011")
    assert texter.subscriptions.sms_marketing.state == "SUBSCRIBED" and texter.id in vip.members
