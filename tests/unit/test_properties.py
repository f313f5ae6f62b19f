"""Property tests: whatever a legacy client sends, the parser answers in the legacy
dialect or yields a spec-valid upstream call — never an unexpected exception."""

from __future__ import annotations

import asyncio
import base64

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from proxy.backends import memory_state
from proxy.config import Settings
from proxy.engine.dispatch import Engine
from proxy.handlers.registry import HANDLERS
from proxy.legacy.errors import LegacyError
from proxy.legacy.payload import PayloadError, read_payload
from proxy.legacy.request import parse_request
from proxy.mapping.table import load_table
from proxy.newapi.messages import UpstreamRequest, UpstreamResponse
from proxy.openapi.validate import validate_request
from proxy.shapes.event_input import InvalidPayload, event_body
from proxy.shapes.person import legacy_person
from proxy.upstream.client import Call, Credentials, UpstreamClient, build_request

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
json_scalars = st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20)
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=8)
property_keys = st.sampled_from(["$email", "email", "$phone_number", "$id", "id", "$first_name", "$city", "$latitude", "plan", "$consent", "__track_once__", "$value", "$event_id", "$exchange_id", "_kx"]) | st.text(max_size=10)


@FAST
@given(body=st.binary(max_size=300), query=st.lists(st.tuples(st.text(max_size=10), st.text(max_size=20)), max_size=4))
def test_any_body_parses_or_is_a_legacy_400(body, query):
    try:
        request = parse_request("POST", "/api/v1/metrics", query, {"Content-Type": "application/json"}, body)
    except LegacyError as error:
        assert error.status == 400
        return
    assert request.method == "POST"


@FAST
@given(data=st.text(max_size=200) | st.binary(max_size=200).map(lambda raw: base64.b64encode(raw).decode()))
def test_any_data_value_decodes_or_is_a_payload_error(data):
    request = parse_request("GET", "/api/track", [("data", data)], {}, b"")
    try:
        assert isinstance(read_payload(request), dict)
    except PayloadError:
        pass


track_payloads = st.fixed_dictionaries(
    {"token": st.just("DemoPk"), "event": st.text(max_size=30)},
    optional={
        "customer_properties": st.dictionaries(property_keys, json_values, max_size=5),
        "properties": st.dictionaries(property_keys, json_values, max_size=5),
        "time": st.none() | st.integers(0, 2_000_000_000) | st.floats(0, 2e9) | st.text(max_size=12),
        "ip": st.text(max_size=15),
    },
)


@FAST
@given(payload=track_payloads)
def test_every_accepted_track_payload_becomes_a_spec_valid_event(payload, spec):
    try:
        body = event_body(payload, 1_700_000_000_000_000_000).body
    except InvalidPayload:
        return
    request = build_request(Call("POST", "/client/events", body=body), Credentials(public_key="DemoPk"))
    assert validate_request(spec, request.method, request.path, request.query, request.headers, request.body) == []


class Accepting:
    async def send(self, request: UpstreamRequest) -> UpstreamResponse:
        return UpstreamResponse(202, {})

    async def aclose(self) -> None:
        pass


ENGINE = Engine(load_table(Settings().mappings_dir), Settings(), UpstreamClient(Accepting()), HANDLERS, state=memory_state().values)


@FAST
@given(data=st.binary(max_size=200), method=st.sampled_from(["GET", "POST"]), route=st.sampled_from(["/api/track", "/api/identify"]))
def test_track_and_identify_answer_one_or_zero_for_any_bytes(data, method, route):
    async def serve() -> bytes:
        match = ENGINE.match(method, route)
        try:
            request = parse_request(method, route, [("data", data.decode("latin-1"))], {}, b"")
            return (await ENGINE.handle(match, request, 0)).body
        except LegacyError:
            return b"0"

    assert asyncio.run(serve()) in (b"0", b"1")


profile_attributes = st.fixed_dictionaries(
    {},
    optional={
        name: st.none() | st.text(max_size=20)
        for name in ("email", "phone_number", "external_id", "first_name", "last_name", "organization", "title", "created", "updated")
    }
    | {
        "location": st.none() | st.dictionaries(st.sampled_from(["city", "zip", "latitude", "longitude", "timezone"]), st.none() | st.text(max_size=8) | st.floats(-90, 90), max_size=5),
        "properties": st.none() | st.dictionaries(st.text(max_size=8), json_values, max_size=4),
    },
)


@FAST
@given(attributes=profile_attributes)
def test_any_profile_reshapes_to_a_full_legacy_person(attributes):
    for timestamp in ("created", "updated"):
        if attributes.get(timestamp) is not None:
            attributes[timestamp] = "2024-05-01T10:00:00+00:00"
    person = legacy_person({"type": "profile", "id": "01H", "attributes": attributes})
    assert person["object"] == "person" and person["id"] == "01H"
    assert all(person[key] is not None for key in ("$email", "email", "$first_name", "$zip", "created"))
    orjson.dumps(person)
