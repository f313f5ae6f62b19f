"""The upstream URL's query is percent-encoded exactly as urllib's `quote(safe="[]")` would."""

from __future__ import annotations

from urllib.parse import quote, urlencode

import pytest

from proxy.newapi.messages import UpstreamRequest
from proxy.upstream.http import upstream_url

VALUES = [
    "",
    "100",
    'any(id,["01ABC","01DEF"])',
    "equals(email,'a+b@example.com')",
    "name with spaces/slashes?&=#%",
    "~_.-[]{}|\\^`<>\"'\t\n\x00\x7f",
    "Zoë Müller",
    "日本語 ☃",
    "emoji 🎉 & more",
]


@pytest.mark.parametrize("value", VALUES)
def test_a_query_value_is_quoted_as_urllib_quotes_it(value):
    query = (("page[size]", "100"), ("filter", value), (value or "x", "y"))
    request = UpstreamRequest("GET", "/api/profiles", query, {}, None)
    assert upstream_url("https://a.klaviyo.com", request) == "https://a.klaviyo.com/api/profiles?" + urlencode(
        query, quote_via=quote, safe="[]"
    )


def test_no_query_no_question_mark():
    assert upstream_url("https://a.klaviyo.com", UpstreamRequest("GET", "/api/lists", (), {}, None)) == "https://a.klaviyo.com/api/lists"


def test_every_ascii_character_is_quoted_as_urllib_quotes_it():
    text = "".join(map(chr, range(128)))
    request = UpstreamRequest("GET", "/p", (("q", text),), {}, None)
    assert upstream_url("", request) == "/p?q=" + quote(text, safe="[]")
