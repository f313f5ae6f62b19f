"""Data privacy: POST /api/v2/data-privacy/deletion-request."""

import pytest

from proxy.sandbox.seed import DEMO_PRIVATE_KEY as PRIVATE_KEY
from proxy.sandbox.seed import DEMO_PUBLIC_KEY as PUBLIC_KEY

PATH = "/api/v2/data-privacy/deletion-request"
SUBMITTED = {"results": "Submitted new deletion task for customer."}


@pytest.fixture
def ada(sandbox):
    account = sandbox.account(PUBLIC_KEY)
    return next(profile for profile in account.profiles if profile.phone_number and any(
        event.profile_id == profile.id for event in account.events
    ))


async def gone(new_api, profile) -> bool:
    events = await new_api("/api/events", filter=f'equals(profile_id,"{profile.id}")')
    profiles = await new_api("/api/profiles", filter=f'equals(email,"{profile.email}")')
    return events["data"] == [] and profiles["data"] == []


@pytest.mark.parametrize(
    ("field", "attribute"), [("email", "email"), ("phone_number", "phone_number"), ("person_id", "id")]
)
async def test_a_deletion_by_each_identifier_forgets_the_person(proxy, contract, new_api, ada, field, attribute):
    response = await proxy.post(PATH, json={"api_key": PRIVATE_KEY, field: getattr(ada, attribute)})
    assert response.status == 202
    assert await response.json() == SUBMITTED
    assert await gone(new_api, ada)
    job = contract.requests[-1]
    assert (job.method, job.path) == ("POST", "/api/data-privacy-deletion-jobs")


@pytest.mark.parametrize(
    "send",
    [
        lambda proxy, email: proxy.post(PATH, params={"api_key": PRIVATE_KEY}, json={"email": email}),
        lambda proxy, email: proxy.post(PATH, headers={"api-key": PRIVATE_KEY}, json={"email": email}),
    ],
    ids=["query-key", "header-key"],
)
async def test_the_key_may_come_in_the_query_or_a_header(proxy, new_api, ada, send):
    response = await send(proxy, ada.email)
    assert (response.status, await response.json()) == (202, SUBMITTED)
    assert await gone(new_api, ada)


@pytest.mark.parametrize(
    ("body", "status", "detail"),
    [
        ({"email": "nobody@example.com"}, 404, "There is no profile matching the given parameters."),
        ({}, 400, "Specify one of email, phone_number or person_id."),
        ({"email": "a@example.com", "person_id": "01H"}, 400, "Specify only one of email, phone_number or person_id."),
    ],
)
async def test_failures_are_v2_errors_and_delete_nothing(proxy, contract, sandbox, body, status, detail):
    before = len(sandbox.account(PUBLIC_KEY).profiles)
    response = await proxy.post(PATH, json={"api_key": PRIVATE_KEY, **body})
    assert response.status == status
    assert await response.json() == {"detail": detail}
    assert len(sandbox.account(PUBLIC_KEY).profiles) == before
    assert all(request.path != "/api/data-privacy-deletion-jobs" for request in contract.requests)
