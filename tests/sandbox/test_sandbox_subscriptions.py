"""Consent: bulk subscribe (double vs single opt-in), bulk unsubscribe (list-scoped for
members, global for everyone else) and client subscriptions."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sandbox_helpers import after_jobs

from proxy.sandbox.groups import DOUBLE_OPT_IN, SINGLE_OPT_IN, MailingList
from proxy.sandbox.store import Consent, ListSuppression, Profile

EMAIL = {"email": {"marketing": {"consent": "SUBSCRIBED"}}}
UNSUBSCRIBE_EMAIL = {"email": {"marketing": {"consent": "UNSUBSCRIBED"}}}


def job(kind: str, profiles: list[dict], list_id: str | None = None, **attributes) -> dict:
    data = {"type": f"profile-subscription-bulk-{kind}-job", "attributes": {"profiles": {"data": profiles}, **attributes}}
    if list_id:
        data["relationships"] = {"list": {"data": {"type": "list", "id": list_id}}}
    return {"data": data}


def entry(subscriptions: dict = EMAIL, **attributes) -> dict:
    return {"type": "profile", "attributes": {**attributes, "subscriptions": subscriptions}}


@pytest.fixture
def add_list(acme, clock):
    def add(opt_in_process: str, list_id: str = "LstAbc") -> MailingList:
        mailing_list = MailingList(list_id, list_id, clock.now, clock.now, opt_in_process)
        acme.lists.add(mailing_list)
        return mailing_list

    return add


@pytest.fixture
def add_profile(acme, clock):
    def add(profile_id: str, email: str | None = None, phone_number: str | None = None) -> Profile:
        profile = Profile(profile_id, clock.now, clock.now, email=email, phone_number=phone_number)
        acme.profiles.add(profile)
        return profile

    return add


async def subscribe(api, *profiles: dict, list_id: str | None = None, **attributes) -> None:
    answer = await api.post("/api/profile-subscription-bulk-create-jobs", job("create", list(profiles), list_id, **attributes))
    assert (answer.status, answer.body) == (202, b""), answer.json
    await after_jobs(api)


async def unsubscribe(api, *profiles: dict, list_id: str | None = None) -> None:
    answer = await api.post("/api/profile-subscription-bulk-delete-jobs", job("delete", list(profiles), list_id))
    assert (answer.status, answer.body) == (202, b""), answer.json
    await after_jobs(api)


async def test_double_opt_in_leaves_the_profile_pending_and_off_the_list(api, acme, add_list):
    newsletter = add_list(DOUBLE_OPT_IN)
    await subscribe(api, entry(email="ada@example.com"), list_id=newsletter.id)
    profile = acme.profiles.find("email", "ada@example.com")
    assert profile.id in newsletter.pending and profile.id not in newsletter.members
    assert profile.subscriptions.email_marketing.state == "NEVER_SUBSCRIBED"


async def test_single_opt_in_subscribes_joins_and_lifts_only_some_suppressions(api, add_list, add_profile, clock):
    vip = add_list(SINGLE_OPT_IN)
    ada = add_profile("01ADA", "ada@example.com")
    ada.subscriptions.suppress_email("UNSUBSCRIBE", clock.now - 10)
    ada.subscriptions.suppress_email("HARD_BOUNCE", clock.now - 5)
    ada.subscriptions.email_list_suppressions.append(ListSuppression(vip.id, "UNSUBSCRIBE", clock.now - 10))
    await subscribe(api, {"type": "profile", "id": ada.id, "attributes": {"subscriptions": EMAIL}}, list_id=vip.id)
    assert ada.id in vip.members
    assert ada.subscriptions.email_marketing == Consent("SUBSCRIBED", clock.now, "API")
    assert [s.reason for s in ada.subscriptions.email_suppressions] == ["HARD_BOUNCE"]
    assert ada.subscriptions.email_list_suppressions == []


async def test_historical_import_skips_double_opt_in_but_needs_a_past_consent_time(api, acme, add_list, clock):
    newsletter = add_list(DOUBLE_OPT_IN)
    consented_at = clock.now - 3600
    past = datetime.fromtimestamp(consented_at, timezone.utc).isoformat()
    consented = {"email": {"marketing": {"consent": "SUBSCRIBED", "consented_at": past}}}
    await subscribe(api, entry(consented, email="ada@example.com"), list_id=newsletter.id, historical_import=True)
    profile = acme.profiles.find("email", "ada@example.com")
    assert profile.id in newsletter.members
    assert profile.subscriptions.email_marketing.timestamp == consented_at
    body = job("create", [entry(email="grace@example.com")], newsletter.id, historical_import=True)
    refused = await api.post("/api/profile-subscription-bulk-create-jobs", body)
    assert refused.status == 400 and acme.profiles.find("email", "grace@example.com") is None


async def test_sms_subscription_needs_a_phone_number(api, acme):
    sms = {"sms": {"marketing": {"consent": "SUBSCRIBED"}}}
    refused = await api.post("/api/profile-subscription-bulk-create-jobs", job("create", [entry(sms, email="a@b.co")]))
    assert refused.error["source"]["pointer"] == "/data/attributes/profiles/data/0/attributes/phone_number"
    await subscribe(api, entry(sms, phone_number="+15005550006"))
    assert acme.profiles.find("phone_number", "+15005550006").subscriptions.sms_marketing.state == "SUBSCRIBED"


async def test_jobs_have_profile_caps(api):
    many = [entry(email=f"p{i}@example.com") for i in range(1001)]
    assert (await api.post("/api/profile-subscription-bulk-create-jobs", job("create", many))).status == 400
    unsubscribing = [entry(UNSUBSCRIBE_EMAIL, email=f"p{i}@example.com") for i in range(101)]
    assert (await api.post("/api/profile-subscription-bulk-delete-jobs", job("delete", unsubscribing))).status == 400


async def test_an_unknown_list_is_404(api):
    answer = await api.post("/api/profile-subscription-bulk-create-jobs", job("create", [entry(email="a@b.co")], "nope"))
    assert answer.error["code"] == "not_found"


async def test_unsubscribing_a_member_is_scoped_to_the_list(api, add_list, add_profile, clock):
    vip = add_list(SINGLE_OPT_IN)
    ada = add_profile("01ADA", "ada@example.com")
    ada.subscriptions.email_marketing = Consent("SUBSCRIBED", clock.now, "API")
    vip.members.add(ada.id, clock.now)
    await unsubscribe(api, entry(UNSUBSCRIBE_EMAIL, email="ada@example.com"), list_id=vip.id)
    assert ada.id not in vip.members
    assert ada.subscriptions.email_list_suppressions == [ListSuppression(vip.id, "UNSUBSCRIBE", clock.now)]
    assert ada.subscriptions.email_marketing.state == "SUBSCRIBED"
    assert ada.subscriptions.email_suppressions == []


async def test_unsubscribing_someone_off_the_list_is_global(api, add_list, add_profile):
    vip = add_list(SINGLE_OPT_IN)
    grace = add_profile("01GRACE", "grace@example.com")
    await unsubscribe(api, entry(UNSUBSCRIBE_EMAIL, email="grace@example.com"), list_id=vip.id)
    assert grace.subscriptions.email_marketing.state == "UNSUBSCRIBED"
    assert [s.reason for s in grace.subscriptions.email_suppressions] == ["UNSUBSCRIBE"]


async def test_client_subscription_follows_the_lists_opt_in(api, acme, add_list):
    single, double = add_list(SINGLE_OPT_IN, "Single"), add_list(DOUBLE_OPT_IN, "Double")
    for mailing_list, email in ((single, "ada@example.com"), (double, "grace@example.com")):
        body = {
            "data": {
                "type": "subscription",
                "attributes": {"profile": {"data": {"type": "profile", "attributes": {"email": email, "first_name": "F"}}}},
                "relationships": {"list": {"data": {"type": "list", "id": mailing_list.id}}},
            }
        }
        answer = await api.post("/client/subscriptions", body)
        assert (answer.status, answer.body) == (202, b""), answer.json
    await after_jobs(api)
    ada, grace = acme.profiles.find("email", "ada@example.com"), acme.profiles.find("email", "grace@example.com")
    assert ada.id in single.members and ada.subscriptions.email_marketing.state == "SUBSCRIBED"
    assert ada.first_name == "F"
    assert grace.id in double.pending and grace.id not in double.members


async def test_client_subscription_needs_an_existing_list_and_an_identifier(api, add_list):
    add_list(SINGLE_OPT_IN, "Single")

    def body(list_id: str, attributes: dict) -> dict:
        profile = {"data": {"type": "profile", "attributes": attributes}}
        relationships = {"list": {"data": {"type": "list", "id": list_id}}}
        return {"data": {"type": "subscription", "attributes": {"profile": profile}, "relationships": relationships}}

    unknown = await api.post("/client/subscriptions", body("nope", {"email": "ada@example.com"}))
    assert unknown.error["code"] == "not_found"
    anonymous = await api.post("/client/subscriptions", body("Single", {"first_name": "No identifier"}))
    assert anonymous.error["source"]["pointer"] == "/data/attributes/profile/data/attributes"


async def test_a_job_subscribes_nobody_before_its_response_is_out(api, acme, add_list):
    vip = add_list(SINGLE_OPT_IN)
    answer = await api.post("/api/profile-subscription-bulk-create-jobs", job("create", [entry(email="ada@example.com")], vip.id))
    assert answer.status == 202
    assert acme.profiles.find("email", "ada@example.com") is None and len(vip.members) == 0
    await after_jobs(api)
    assert acme.profiles.find("email", "ada@example.com").id in vip.members


async def test_an_empty_subscriptions_object_subscribes_nothing(api, add_list, add_profile):
    vip = add_list(SINGLE_OPT_IN)
    ada = add_profile("01ADA", "ada@example.com", "+15005550006")
    await subscribe(api, {"type": "profile", "id": ada.id, "attributes": {"subscriptions": {}}}, list_id=vip.id)
    assert ada.id not in vip.members
    assert ada.subscriptions.email_marketing.state == ada.subscriptions.sms_marketing.state == "NEVER_SUBSCRIBED"


def client_body(list_id: str, attributes: dict) -> dict:
    profile = {"data": {"type": "profile", "attributes": attributes}}
    relationships = {"list": {"data": {"type": "list", "id": list_id}}}
    return {"data": {"type": "subscription", "attributes": {"profile": profile}, "relationships": relationships}}


async def test_a_client_subscription_subscribes_only_the_channels_its_object_names(api, acme, add_list):
    single = add_list(SINGLE_OPT_IN, "Single")
    # A phone number beside an empty subscriptions object: the profile is updated, not subscribed.
    await api.post("/client/subscriptions", client_body(single.id, {"phone_number": "+15005550006", "subscriptions": {}}))
    email_only = {"email": {"marketing": {"consent": "SUBSCRIBED"}}}
    await api.post(
        "/client/subscriptions",
        client_body(single.id, {"email": "ada@example.com", "phone_number": "+15005550007", "subscriptions": email_only}),
    )
    await after_jobs(api)
    phone = acme.profiles.find("phone_number", "+15005550006")
    assert phone.subscriptions.sms_marketing.state == "NEVER_SUBSCRIBED" and phone.id not in single.members
    ada = acme.profiles.find("email", "ada@example.com")
    assert ada.subscriptions.email_marketing.state == "SUBSCRIBED"
    assert ada.subscriptions.sms_marketing.state == "NEVER_SUBSCRIBED"
