"""Global exclusions: GET and POST /api/v1/people/exclusions."""

import re

import pytest

from proxy.sandbox.seed import DEMO_PRIVATE_KEY as PRIVATE_KEY
from proxy.sandbox.seed import DEMO_PUBLIC_KEY as PUBLIC_KEY
from proxy.sandbox.seed import demo_sandbox
from proxy.sandbox.store import Profile

ENVELOPE_KEYS = ["end", "object", "page_size", "start", "total", "data", "page"]
EXCLUSION_KEYS = ["object", "email", "reason", "timestamp"]
LEGACY_TIME = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")
# The demo account's suppressed people (seed: every fourth never subscribed).
SEEDED = {
    "katherine.johnson@example.com": "unsubscribed",
    "hedy.lamarr@example.com": "bounced",
    "margaret.hamilton@example.com": "invalid_email",
    "radia.perlman@example.com": "reported_spam",
    "annie.easley@example.com": "manually_excluded",
    "joan.clarke@example.com": "unsubscribed",
}


async def exclusions(proxy, **params) -> dict:
    response = await proxy.get("/api/v1/people/exclusions", params={"api_key": PRIVATE_KEY, **params})
    assert response.status == 200, await response.text()
    body = await response.json()
    assert list(body) == ENVELOPE_KEYS
    return body


async def test_every_suppressed_person_is_an_exclusion_oldest_first(proxy, contract):
    body = await exclusions(proxy)
    assert (body["object"], body["start"], body["end"], body["page"]) == ("$list", 0, 5, 0)
    assert body["total"] == body["page_size"] == len(body["data"]) == len(SEEDED)
    assert {item["email"]: item["reason"] for item in body["data"]} == SEEDED
    for item in body["data"]:
        assert list(item) == EXCLUSION_KEYS and item["object"] == "exclusion"
        assert LEGACY_TIME.fullmatch(item["timestamp"])
    stamps = [item["timestamp"] for item in body["data"]]
    assert stamps == sorted(stamps)
    (request,) = contract.requests
    query = dict(request.query)
    assert (query["page[size]"], query["additional-fields[profile]"]) == ("100", "subscriptions")
    assert query["sort"] == "subscriptions.email.marketing.suppression.timestamp"


async def test_desc_is_newest_first(proxy):
    stamps = [item["timestamp"] for item in (await exclusions(proxy, sort="desc"))["data"]]
    assert stamps == sorted(stamps, reverse=True)


@pytest.mark.parametrize("reason", ["unsubscribed", "bounced", "invalid_email", "reported_spam", "manually_excluded"])
async def test_reason_narrows_the_listing(proxy, contract, reason):
    body = await exclusions(proxy, reason=reason)
    assert {item["email"] for item in body["data"]} == {email for email, why in SEEDED.items() if why == reason}
    assert body["total"] == len(body["data"])
    assert {item["reason"] for item in body["data"]} == {reason}


async def test_page_and_count_slice_the_whole_scan(proxy):
    everything = (await exclusions(proxy))["data"]
    body = await exclusions(proxy, page="1", count="4")
    assert body["data"] == everything[4:]
    assert (body["start"], body["end"], body["page_size"], body["total"], body["page"]) == (4, 5, 2, 6, 1)


async def test_the_scan_follows_cursors_to_the_end(proxy, contract, sandbox):
    account = sandbox.account(PUBLIC_KEY)
    for index in range(205):
        profile = Profile(id=f"01HBULK{index:019d}", created=1.7e9, updated=1.7e9, email=f"bulk{index}@example.com")
        profile.subscriptions.suppress_email("HARD_BOUNCE", 1.7e9 + index)
        account.profiles.add(profile)
    body = await exclusions(proxy, count="50", page="2")
    assert body["total"] == 205 + len(SEEDED)
    assert [item["email"] for item in body["data"]] == [f"bulk{index}@example.com" for index in range(100, 150)]
    assert len(contract.requests) == 3  # ⌈211 / 100⌉ pages


async def test_an_empty_listing_is_the_empty_envelope(proxy, sandbox):
    for profile in sandbox.account(PUBLIC_KEY).profiles:
        profile.subscriptions.email_suppressions.clear()
    body = await exclusions(proxy)
    assert body == {"end": 0, "object": "$list", "page_size": 0, "start": 0, "total": 0, "data": [], "page": 0}


async def test_an_unknown_reason_is_a_v1_400(proxy):
    response = await proxy.get("/api/v1/people/exclusions", params={"api_key": PRIVATE_KEY, "reason": "angry"})
    assert response.status == 400
    assert (await response.json())["message"].startswith("Invalid value for reason")


async def exclude(proxy, email: str) -> dict:
    response = await proxy.post("/api/v1/people/exclusions", params={"api_key": PRIVATE_KEY}, data={"email": email})
    assert response.status == 200, await response.text()
    return await response.json()


async def test_excluding_a_subscribed_person_then_again(proxy, contract, new_api):
    email = "ada.lovelace@example.com"
    assert await exclude(proxy, email) == {"already_excluded": False, "num_excluded": 1}
    paths = [request.path for request in contract.requests]
    # The answer waits for the job: it is read back until complete.
    assert paths[:2] == ["/api/profiles", "/api/profile-suppression-bulk-create-jobs"] and len(paths) > 2
    assert len(set(paths[2:])) == 1 and paths[2].startswith("/api/profile-suppression-bulk-create-jobs/")
    assert await exclude(proxy, email) == {"already_excluded": True, "num_excluded": 0}
    assert len(contract.requests) == len(paths) + 1  # the second call only looked
    listed = {item["email"]: item["reason"] for item in (await exclusions(proxy))["data"]}
    assert listed[email] == "manually_excluded"


async def test_an_already_bounced_person_is_already_excluded(proxy):
    assert await exclude(proxy, "hedy.lamarr@example.com") == {"already_excluded": True, "num_excluded": 0}


async def test_an_unknown_email_is_excluded_too(proxy, new_api):
    assert await exclude(proxy, "stranger@example.com") == {"already_excluded": False, "num_excluded": 1}
    (profile,) = (await new_api("/api/profiles", filter='equals(email,"stranger@example.com")', **{"additional-fields[profile]": "subscriptions"}))["data"]
    assert profile["attributes"]["subscriptions"]["email"]["marketing"]["suppression"][0]["reason"] == "USER_SUPPRESSED"


async def test_the_api_key_may_come_in_the_form(proxy):
    response = await proxy.post("/api/v1/people/exclusions", data={"api_key": PRIVATE_KEY, "email": "grace.hopper@example.com"})
    assert await response.json() == {"already_excluded": False, "num_excluded": 1}


@pytest.mark.parametrize(
    ("form", "message"),
    [({}, "Missing required parameter: email."), ({"email": "not-an-email"}, "Invalid email address: 'not-an-email'.")],
)
async def test_bad_exclusions_are_v1_400s(proxy, form, message):
    response = await proxy.post("/api/v1/people/exclusions", params={"api_key": PRIVATE_KEY}, data=form)
    assert response.status == 400
    assert await response.json() == {"status": 400, "message": message}


@pytest.fixture
def sandbox(request):
    """The demo sandbox, with another job delay when a test asks for one."""
    return demo_sandbox(job_delay=getattr(request, "param", None))


@pytest.mark.parametrize("sandbox", [3600], indirect=True)  # jobs take longer than the proxy polls
async def test_a_job_not_done_in_time_excludes_nobody_yet(proxy, sandbox, contract):
    """The answer is what the job reports done, never what it is expected to do."""
    answer = await exclude(proxy, "slow@example.com")
    assert answer == {"already_excluded": False, "num_excluded": 0}
    assert len([r for r in contract.requests if r.path.startswith("/api/profile-suppression-bulk-create-jobs/")]) == 5
