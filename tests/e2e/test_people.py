"""People: GET and PUT /api/v1/person/{id}, GET /api/v2/people/search, POST /api/v2/people/exchange."""

import re

import pytest

from proxy.sandbox.seed import DEMO_PRIVATE_KEY as PRIVATE_KEY
from proxy.sandbox.seed import DEMO_PUBLIC_KEY as PUBLIC_KEY

STANDARD_KEYS = [
    "object", "id", "$email", "$first_name", "$last_name", "$phone_number", "$title", "$organization", "$id",
    "$address1", "$address2", "$city", "$region", "$zip", "$country", "$timezone", "$latitude", "$longitude",
    "email", "first_name", "last_name", "created", "updated",
]  # fmt: skip
LEGACY_TIME = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")
MISSING = "01HZZZZZZZZZZZZZZZZZZZZZZZ"
NOT_FOUND_V1 = {"status": 404, "message": "The requested resource does not exist."}
NO_MATCH_V2 = {"detail": "There is no profile matching the given parameters."}


@pytest.fixture
def account(sandbox):
    return sandbox.account(PUBLIC_KEY)


@pytest.fixture
def ada(account):
    """The demo profile with a phone number, an external id and a `_kx`."""
    return next(profile for profile in account.profiles if profile.kx)


async def person(proxy, person_id: str) -> dict:
    response = await proxy.get(f"/api/v1/person/{person_id}", params={"api_key": PRIVATE_KEY})
    assert response.status == 200, await response.text()
    assert response.content_type == "application/json"
    return await response.json()


async def test_a_person_has_every_standard_key_and_its_custom_properties(proxy, ada):
    body = await person(proxy, ada.id)
    when_set = [key for key, value in (("$image", ada.image), ("$locale", ada.locale)) if value]
    assert list(body) == [*STANDARD_KEYS, *when_set, *ada.properties]
    assert (body["object"], body["id"]) == ("person", ada.id)
    assert body["$email"] == body["email"] == ada.email
    assert body["$first_name"] == body["first_name"] == ada.first_name
    assert (body["$phone_number"], body["$id"], body["$city"]) == (ada.phone_number, ada.external_id, ada.location["city"])
    assert body["$title"] == body["$address1"] == body["$latitude"] == ""  # unset: "" never null
    assert LEGACY_TIME.fullmatch(body["created"]) and LEGACY_TIME.fullmatch(body["updated"])
    assert body["loyalty_points"] == ada.properties["loyalty_points"]


async def test_an_unknown_person_is_the_v1_404(proxy):
    response = await proxy.get(f"/api/v1/person/{MISSING}", params={"api_key": PRIVATE_KEY})
    assert response.status == 404
    assert await response.json() == NOT_FOUND_V1


@pytest.mark.parametrize(
    "content_type", ["application/json", "application/x-www-form-urlencoded", None], ids=["json", "form", "none"]
)
async def test_put_takes_properties_from_the_query_as_the_clients_send_them(proxy, contract, ada, content_type):
    headers = {"Content-Type": content_type} if content_type else {}
    params = {"api_key": PRIVATE_KEY, "$first_name": "Augusta", "plan": "gold", "visits": "12"}
    response = await proxy.put(f"/api/v1/person/{ada.id}", params=params, headers=headers)
    assert response.status == 200
    body = await response.json()
    assert list(body)[:23] == STANDARD_KEYS
    assert (body["$first_name"], body["first_name"], body["plan"], body["visits"]) == ("Augusta", "Augusta", "gold", "12")
    assert body["$last_name"] == "Lovelace" and body["favorite_category"] == ada.properties["favorite_category"]
    assert [(r.method, r.path) for r in contract.requests] == [("PATCH", f"/api/profiles/{ada.id}")]


async def test_put_takes_everything_from_a_form_body_too(proxy, ada):
    form = {"api_key": PRIVATE_KEY, "$title": "Countess", "$zip": "W1"}
    body = await (await proxy.put(f"/api/v1/person/{ada.id}", data=form)).json()
    assert (body["$title"], body["$zip"]) == ("Countess", "W1")


async def test_unset_clears_what_it_names_and_nothing_else(proxy, new_api, ada):
    params = {"api_key": PRIVATE_KEY, "$unset": '["plan","$organization","$city"]'}
    body = await (await proxy.put(f"/api/v1/person/{ada.id}", params=params)).json()
    assert "plan" not in body and body["$organization"] == "" and body["$city"] == ""
    assert body["loyalty_points"] == ada.properties["loyalty_points"] and body["$region"] == ada.location["region"]
    stored = (await new_api(f"/api/profiles/{ada.id}"))["data"]["attributes"]
    assert stored["organization"] is None and "plan" not in stored["properties"]


async def test_put_with_nothing_to_change_only_reads(proxy, contract, ada):
    body = await (await proxy.put(f"/api/v1/person/{ada.id}", params={"api_key": PRIVATE_KEY})).json()
    assert body["id"] == ada.id
    assert [r.method for r in contract.requests] == ["GET"]


@pytest.mark.parametrize(
    ("person_id", "params", "status", "message"),
    [
        (MISSING, {"$title": "x"}, 404, NOT_FOUND_V1["message"]),
        (None, {"$unset": "plan"}, 400, 'Invalid value for $unset: must be a JSON list of property names, e.g. ["plan"].'),
        (None, {"$email": "not-an-email"}, 400, "Invalid email address: 'not-an-email'."),
    ],
)
async def test_put_failures_are_v1_errors(proxy, ada, person_id, params, status, message):
    response = await proxy.put(f"/api/v1/person/{person_id or ada.id}", params={"api_key": PRIVATE_KEY, **params})
    assert response.status == status
    assert await response.json() == {"status": status, "message": message}


async def test_put_may_change_the_email(proxy, new_api, ada):
    params = {"api_key": PRIVATE_KEY, "$email": "augusta@example.com"}
    body = await (await proxy.put(f"/api/v1/person/{ada.id}", params=params)).json()
    assert body["email"] == "augusta@example.com"
    found = await new_api("/api/profiles", filter='equals(email,"augusta@example.com")')
    assert [p["id"] for p in found["data"]] == [ada.id]


@pytest.mark.parametrize(
    ("field", "attribute"), [("email", "email"), ("phone_number", "phone_number"), ("external_id", "external_id")]
)
async def test_search_by_each_identifier_in_the_query(proxy, ada, field, attribute):
    response = await proxy.get("/api/v2/people/search", params={"api_key": PRIVATE_KEY, field: getattr(ada, attribute)})
    assert response.status == 200
    assert await response.json() == {"id": ada.id}


async def test_search_with_a_json_body_on_get_and_the_key_in_a_header(proxy, ada):
    by_body = await proxy.get("/api/v2/people/search", json={"api_key": PRIVATE_KEY, "email": ada.email.upper()})
    assert await by_body.json() == {"id": ada.id}
    by_header = await proxy.get("/api/v2/people/search", params={"email": ada.email}, headers={"api-key": PRIVATE_KEY})
    assert await by_header.json() == {"id": ada.id}


@pytest.mark.parametrize(
    ("query", "status", "body"),
    [
        ({"email": "nobody@example.com"}, 404, NO_MATCH_V2),
        ({}, 400, {"detail": "Specify one of email, phone_number or external_id."}),
        ({"email": "a@example.com", "external_id": "x"}, 400, {"detail": "Specify only one of email, phone_number or external_id."}),
    ],
)
async def test_search_failures_are_v2_errors(proxy, query, status, body):
    response = await proxy.get("/api/v2/people/search", params={"api_key": PRIVATE_KEY, **query})
    assert response.status == status
    assert await response.json() == body


async def test_search_values_cannot_break_out_of_the_filter(proxy, contract):
    response = await proxy.get("/api/v2/people/search", params={"api_key": PRIVATE_KEY, "email": 'x"),equals(id,"y'})
    assert response.status == 404
    (request,) = contract.requests
    assert dict(request.query)["filter"] == 'equals(email,"x\\"),equals(id,\\"y")'


async def test_exchange_turns_a_kx_into_the_person_id(proxy, contract, ada):
    response = await proxy.post("/api/v2/people/exchange", params={"api_key": PRIVATE_KEY}, json={"exchange_id": ada.kx})
    assert response.status == 200
    assert await response.json() == {"id": ada.id}
    assert dict(contract.requests[0].query)["filter"] == f'equals(_kx,"{ada.kx}")'


@pytest.mark.parametrize(("body", "status"), [({"exchange_id": "unknown.DemoPk"}, 404), ({}, 400)])
async def test_exchange_failures_are_v2_errors(proxy, body, status):
    response = await proxy.post("/api/v2/people/exchange", json={"api_key": PRIVATE_KEY, **body})
    assert response.status == status
    assert list(await response.json()) == ["detail"]


async def test_image_and_locale_written_by_put_show_on_the_person(proxy, ada):
    params = {"api_key": PRIVATE_KEY, "$image": "https://example.com/ada.png", "$locale": "en-GB"}
    body = await (await proxy.put(f"/api/v1/person/{ada.id}", params=params)).json()
    assert (body["$image"], body["$locale"]) == ("https://example.com/ada.png", "en-GB")
    assert (ada.image, ada.locale) == ("https://example.com/ada.png", "en-GB")
    assert list(body)[:23] == STANDARD_KEYS and "$locale" not in ada.properties
    again = await person(proxy, ada.id)
    assert (again["$image"], again["$locale"]) == ("https://example.com/ada.png", "en-GB")
