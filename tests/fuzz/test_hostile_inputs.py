"""Numeric strings for a timeline's `since` and bodies that lie about their
Content-Encoding (issue 16, item 8 and 5): every answer is legacy, a `since` that names
no moment never reaches upstream, and a body that does not decode never does either.
"""

from __future__ import annotations

import gzip
import http.client
import json
import zlib
from decimal import Decimal, InvalidOperation
from urllib.parse import urlencode, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from legacy_dialects import assert_legacy_answer

from proxy.config import Settings
from proxy.mapping.table import load_table
from proxy.sandbox import DEMO_PRIVATE_KEY, DEMO_PUBLIC_KEY

FUZZ = settings(max_examples=60, derandomize=True, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
LATEST = 253_402_300_799  # 9999-12-31T23:59:59Z
TIMELINES = [entry.example.get("path", entry.path) for entry in load_table(Settings().mappings_dir) if entry.paginate == "timeline"]

numeric_strings = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.floats(allow_nan=True, allow_infinity=True).map(lambda number: format(number, "f") if number == number else "nan"),
    st.integers(min_value=-(10**40), max_value=10**40).map(str),
    st.from_regex(r"[+-]?\d{0,25}(\.\d{0,12})?([eE][+-]?\d{1,4})?", fullmatch=True),
    st.sampled_from(["1e309", "-inf", "Infinity", "-Infinity", "NaN", "sNaN", "1e30", "-0", "+1", "1_000", " 12 ", "0x10", "١٢٣"]),
)


def moment(text: str) -> bool:
    """Whether `since` names a second events can have (the proxy's rule, restated)."""
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        return False
    return value.is_finite() and 0 <= value <= LATEST


def request(base_url: str, method: str, target: str, body: bytes | None = None, headers: dict | None = None) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection(urlsplit(base_url).netloc, timeout=10)
    try:
        connection.request(method, target, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


@pytest.mark.parametrize("path", TIMELINES)
@FUZZ
@given(since=numeric_strings)
def test_numeric_since_values_get_a_legacy_answer(live, path, since):
    mark = live.mark()
    target = f"{path}?{urlencode({'api_key': DEMO_PRIVATE_KEY, 'since': since, 'sort': 'asc'})}"
    status, body = request(live.proxy_url, "GET", target)
    arrivals, violations = live.since(mark)
    sent = f"GET {path} since={since!r}"
    assert violations == [], sent
    assert_legacy_answer(sent, path, status, body, arrivals)
    if since and not moment(since) and not since.strip().isalpha():  # "" is no since; letters may be a (bad) next token
        assert status == 400 and arrivals == [], f"{sent}: {status}, {len(arrivals)} upstream calls"


TRACK = json.dumps({"token": DEMO_PUBLIC_KEY, "event": "Fuzzed", "customer_properties": {"$email": "fuzz@example.com"}})
BODIES = {
    "/api/track": ("application/x-www-form-urlencoded", urlencode({"data": TRACK}).encode()),
    "/api/identify": ("application/x-www-form-urlencoded", urlencode({"data": json.dumps({"token": DEMO_PUBLIC_KEY, "properties": {"$email": "fuzz@example.com"}})}).encode()),
    "/api/v2/lists": ("application/json", b'{"list_name": "Fuzzed"}'),
    "/api/v1/people/exclusions": ("application/x-www-form-urlencoded", b"email=fuzz%40example.com"),
}


def raw_deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush()


def bomb(data: bytes) -> bytes:
    """`data` then 4 MiB of spaces (past the 2 MiB limit), gzip: a few KB on the wire."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    return compressor.compress(data) + b"".join(compressor.compress(b" " * 65536) for _ in range(64)) + compressor.flush()


# (what the body is, the Content-Encoding it claims) -> whether it decodes within the limit
DECODES = {"gzip": True, "zlib": True, "raw deflate": True, "truncated gzip": False, "garbage": False, "bomb": False}
ENCODE = {
    "gzip": gzip.compress,
    "zlib": zlib.compress,
    "raw deflate": raw_deflate,
    "truncated gzip": lambda data: gzip.compress(data)[:-9],
    "garbage": lambda data: data,
    "bomb": bomb,
}
CLAIMED = {"gzip": "gzip", "zlib": "deflate", "raw deflate": "deflate", "truncated gzip": "gzip", "bomb": "gzip"}


@pytest.mark.parametrize("path", BODIES)
@FUZZ
@given(form=st.sampled_from(sorted(ENCODE)), claim=st.sampled_from(["gzip", "deflate", None]), noise=st.binary(max_size=64))
def test_compressed_bodies_get_a_legacy_answer(live, path, form, claim, noise):
    content_type, plain = BODIES[path]
    body = ENCODE[form](plain) + (noise if form == "garbage" else b"")
    encoding = claim if form == "garbage" else CLAIMED[form]
    headers = {"Content-Type": content_type, **({"Content-Encoding": encoding} if encoding else {})}
    mark = live.mark()
    status, answer = request(live.proxy_url, "POST", f"{path}?{urlencode({'api_key': DEMO_PRIVATE_KEY})}", body, headers)
    arrivals, violations = live.since(mark)
    sent = f"POST {path} ({form}, Content-Encoding: {encoding})"
    assert violations == [], sent
    assert_legacy_answer(sent, path, status, answer, arrivals)
    if encoding and not DECODES[form]:
        assert arrivals == [], f"{sent} reached upstream"
        assert status == (200 if path in ("/api/track", "/api/identify") else 413 if form == "bomb" else 400), sent
