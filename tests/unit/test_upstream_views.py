"""A call with a view gets the parts of a success its view names, nothing else; a
success the view cannot read is a garbled one (a legacy 503), and failures are read whole."""

from __future__ import annotations

import time

import orjson
import pytest

from proxy.backends import memory_state
from proxy.config import Settings
from proxy.engine.dispatch import Engine
from proxy.handlers.registry import HANDLERS
from proxy.legacy.errors import LegacyError
from proxy.legacy.request import parse_request
from proxy.mapping.table import load_table
from proxy.newapi.errors import UpstreamRejected, UpstreamServerError
from proxy.newapi.messages import UpstreamRequest, UpstreamResponse
from proxy.newapi.views import MembersPage, ProfilesWithPushTokens
from proxy.sandbox.seed import DEMO_PRIVATE_KEY
from proxy.upstream.client import Call, Credentials, UpstreamClient

LIST_ID = "LstView"
PROFILE = {
    "type": "profile",
    "id": "01P",
    "attributes": {"email": "a@example.com", "phone_number": None, "first_name": "Ann", "properties": {"x": [1, 2]}},
    "relationships": {"lists": {"data": []}, "push-tokens": {"data": [{"type": "push-token", "id": "T1"}]}},
    "links": {"self": "https://a.klaviyo.com/api/profiles/01P"},
}
TOKEN = {"type": "push-token", "id": "T1", "attributes": {"token": "tok", "platform": "ios"}, "links": {"self": "x"}}


class Answers:
    """An upstream that answers every call with one status and body."""

    def __init__(self, status: int, body: bytes) -> None:
        self.status, self.body = status, body

    async def send(self, request: UpstreamRequest) -> UpstreamResponse:
        return UpstreamResponse(self.status, {"Content-Type": "application/vnd.api+json"}, self.body)

    async def aclose(self) -> None:
        pass


async def viewed(status: int, body: bytes, view: object) -> object:
    reply = await UpstreamClient(Answers(status, body)).send(Call("GET", "/api/profiles", view=view), Credentials("pk"))
    return reply.document


async def test_a_members_page_holds_only_what_its_records_read():
    page = {"data": [PROFILE, {"type": "profile", "id": "02Q", "attributes": None}], "links": {"self": "s", "next": "n"}}
    assert await viewed(200, orjson.dumps(page), MembersPage) == {
        "data": [
            {"type": "profile", "id": "01P", "attributes": {"email": "a@example.com", "phone_number": None}},
            {"type": "profile", "id": "02Q", "attributes": None},
        ],
        "links": {"next": "n"},
    }


async def test_profiles_with_push_tokens_hold_the_linkage_and_the_tokens():
    page = {"data": [PROFILE], "included": [TOKEN], "links": {"self": "s", "next": None}}
    assert await viewed(200, orjson.dumps(page), ProfilesWithPushTokens) == {
        "data": [{"type": "profile", "id": "01P", "relationships": {"push-tokens": {"data": [{"type": "push-token", "id": "T1"}]}}}],
        "included": [{"type": "push-token", "id": "T1", "attributes": {"token": "tok"}}],
        "links": {"next": None},
    }


@pytest.mark.parametrize("body", [b'{"data": "garbled"}', b"[]", b'{"data": [', b"<html>"])
async def test_a_success_the_view_cannot_read_is_garbled(body):
    with pytest.raises(UpstreamServerError):
        await viewed(200, body, MembersPage)


async def test_a_failure_is_read_whole_whatever_the_view():
    errors = [{"status": 400, "code": "invalid", "detail": "bad filter", "source": {"parameter": "filter"}}]
    with pytest.raises(UpstreamRejected) as rejected:
        await viewed(400, orjson.dumps({"errors": errors}), MembersPage)
    assert rejected.value.errors == errors


async def test_a_garbled_members_page_is_a_legacy_503_not_a_crash():
    # The list probe reads the same answer whole and finds a success; the page read cannot.
    engine = Engine(
        load_table(Settings().mappings_dir), Settings(), UpstreamClient(Answers(200, b'{"data": "garbled"}')), HANDLERS,
        state=memory_state().values,
    )  # fmt: skip
    path = f"/api/v2/group/{LIST_ID}/members/all"
    with pytest.raises(LegacyError) as failed:
        await engine.handle(engine.match("GET", path), parse_request("GET", path, [("api_key", DEMO_PRIVATE_KEY)], {}, b""), time.time_ns())
    assert failed.value.status == 503
