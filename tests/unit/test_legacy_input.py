import base64
from urllib.parse import parse_qsl

import pytest
from hypothesis import given
from hypothesis import strategies as st
from yarl import URL

from proxy.legacy.errors import LegacyError
from proxy.legacy.payload import PayloadError, read_payload
from proxy.legacy.request import parse_request

PAYLOAD = '{"token": "DemoPk", "event": "Ordered Product", "customer_properties": {"$email": "a+b@x.io"}}'


def request(method="GET", query=(), body=b"", headers=None):
    return parse_request(method, "/api/track", query, headers or {}, body)


def test_api_key_from_query_form_json_and_header():
    assert request(query=[("api_key", "pk_q")]).api_key == "pk_q"
    assert request("POST", body=b"api_key=pk_f&email=a%40b.c").api_key == "pk_f"
    assert request("GET", body=b'{"api_key": "pk_j"}', headers={"Content-Type": "text/plain"}).api_key == "pk_j"
    assert request(headers={"api-key": "pk_h"}).api_key == "pk_h"
    assert request().api_key is None


def test_the_query_as_aiohttp_parses_it_comes_first_then_the_body_fields():
    query = URL("/api/track?x=1&api_key=pk_q&x=2").query  # the server's read-only view
    assert list(request(query=query).params.items()) == [("x", "1"), ("api_key", "pk_q"), ("x", "2")]
    form = request("POST", query=query, body=b"x=3&i=1")
    assert list(form.params.items()) == [("x", "1"), ("api_key", "pk_q"), ("x", "2"), ("x", "3"), ("i", "1")]


def test_body_is_parsed_by_content_not_content_type():
    form = request("POST", body=b"list_name=News", headers={"Content-Type": "application/json"})
    assert form.params["list_name"] == "News"
    json = request("POST", body=b' {"emails": ["a@b.c"]}', headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert json.params["emails"] == ["a@b.c"]


@pytest.mark.parametrize("body", [b"{not json", b'{"a": 1', b"[1,"])
def test_malformed_json_body_is_a_legacy_400(body):
    with pytest.raises(LegacyError) as caught:
        request("POST", body=body)
    assert caught.value.status == 400


# What a form body may hold: separators, "+", escapes whole, cut short, invalid or not
# UTF-8, letters outside ASCII, blanks.
FORM_PIECES = st.sampled_from(["a", "Z", "=", "&", "&&", "+", "%", "%2", "%2B", "%26", "%3D", "%zz", "%E2%82%AC", "%E2%82", "%FF", "é", "😀", " ", ";", "{"])


@given(st.lists(FORM_PIECES, max_size=30).map("".join))
def test_a_form_body_reads_as_urllib_reads_it(text):
    """The form's fields are decoded as `urllib.parse.parse_qsl(keep_blank_values=True)`
    decodes them (percent escapes, "+", invalid UTF-8 as U+FFFD), the legacy API's reading."""
    body = ("k=" + text).encode()
    assert list(request("POST", body=body).params.items()) == parse_qsl(body.strip().decode(), keep_blank_values=True)


def test_non_utf8_form_body_is_a_legacy_400():
    with pytest.raises(LegacyError):
        request("POST", body=b"a=\xff\xfe")


@pytest.mark.parametrize(
    "encode",
    [
        lambda text: base64.b64encode(text.encode()).decode(),
        lambda text: base64.urlsafe_b64encode(text.encode()).decode().rstrip("="),
        lambda text: base64.encodebytes(text.encode()).decode(),  # wrapped lines
        lambda text: base64.b64encode(text.encode()).decode().replace("+", " "),  # "+" lost to form decoding
    ],
)
def test_get_data_accepts_every_base64_dialect(encode):
    payload = read_payload(request(query=[("data", encode(PAYLOAD)), ("test", "0")]))
    assert payload["customer_properties"]["$email"] == "a+b@x.io"


def test_post_form_data_holds_raw_json():
    assert read_payload(request("POST", body=b"data=" + PAYLOAD.encode().replace(b"+", b"%2B")))["token"] == "DemoPk"


def test_a_plain_json_body_is_the_payload():
    assert read_payload(request("POST", body=PAYLOAD.encode()))["event"] == "Ordered Product"


@pytest.mark.parametrize(
    "query",
    [[("data", "!!!notbase64")], [("data", base64.b64encode(b"[1,2]").decode())], [("data", base64.b64encode(b"{bad").decode())], []],
)
def test_unreadable_payloads_raise(query):
    with pytest.raises(PayloadError):
        read_payload(request(query=query))
