"""Every v2 list, member, subscription and group route takes the private key in a JSON
body (even on GET and DELETE), in the query, or in an `api-key` header (legacy contract §1.2)."""

from __future__ import annotations

import re

import pytest
from list_helpers import PLACEMENTS, PRIVATE_KEY, demo_list, demo_segment, v2

GROUP = re.compile(r"\{(list|segment):([^}]+)\}")
ADA = "ada.lovelace@example.com"
CHECK = {"emails": [ADA]}
PROFILES = {"profiles": [{"email": "auth.test@example.com"}]}
# (method, path naming the demo group it acts on, payload), in an order that lets one
# sandbox serve them all
ROUTES = [
    ("GET", "/api/v2/lists", None),
    ("POST", "/api/v2/lists", {"list_name": "Auth"}),
    ("GET", "/api/v2/list/{list:Newsletter}", None),
    ("PUT", "/api/v2/list/{list:Newsletter}", {"list_name": "Renamed"}),
    ("POST", "/api/v2/list/{list:VIP Customers}/members", PROFILES),
    ("GET", "/api/v2/list/{list:Newsletter}/members", CHECK),
    ("POST", "/api/v2/list/{list:Newsletter}/get-members", CHECK),
    ("DELETE", "/api/v2/list/{list:Newsletter}/members", CHECK),
    ("POST", "/api/v2/list/{list:VIP Customers}/subscribe", PROFILES),
    ("GET", "/api/v2/list/{list:Newsletter}/subscribe", CHECK),
    ("POST", "/api/v2/list/{list:Newsletter}/get-list-subscriptions", CHECK),
    ("DELETE", "/api/v2/list/{list:Newsletter}/subscribe", CHECK),
    ("GET", "/api/v2/segment/{segment:Pro plan}/members", CHECK),
    ("POST", "/api/v2/segment/{segment:Pro plan}/get-members", CHECK),
    ("GET", "/api/v2/group/{list:Newsletter}/members/all", None),
    ("GET", "/api/v2/group/{segment:Outdoor fans}/members/all", None),
    ("GET", "/api/v2/list/{list:Newsletter}/exclusions/all", None),
    ("DELETE", "/api/v2/list/{list:VIP Customers}", None),
]


def concrete(sandbox, path: str) -> str:
    """The path with `{list:Name}` / `{segment:Name}` replaced by that demo group's id."""
    find = {"list": demo_list, "segment": demo_segment}
    return GROUP.sub(lambda match: find[match.group(1)](sandbox, match.group(2)).id, path)


@pytest.mark.parametrize("placement", PLACEMENTS)
async def test_each_key_placement_is_accepted_on_every_route(proxy, sandbox, contract, placement):
    for method, path, payload in [(method, concrete(sandbox, path), payload) for method, path, payload in ROUTES]:
        sent = len(contract.requests)
        response = await v2(proxy, method, path, payload, placement)
        assert response.status == 200, (method, path, await response.text())
        assert len(contract.requests) > sent, (method, path)
    assert {request.header("Authorization") for request in contract.requests} == {f"Klaviyo-API-Key {PRIVATE_KEY}"}


async def test_without_a_key_nothing_is_sent_and_the_answer_is_a_v2_403(proxy, sandbox, contract):
    for method, path, payload in ROUTES:
        response = await proxy.request(method, concrete(sandbox, path), json=payload)
        assert response.status == 403, (method, path)
        assert await response.json() == {"detail": "You must specify an API key to make requests."}
    assert contract.requests == []
