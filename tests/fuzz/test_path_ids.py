"""Any text in a legacy path id, however a client encodes it, never bends the upstream
request: what reaches the sandbox is one of the route's new-API operations, each path
variable a single safe segment, on the configured host. An id that is not a legacy id
gets the route's legacy 404 before any upstream call; nothing gets a 500.
"""

from __future__ import annotations

import http.client
import re
from collections.abc import Callable
from urllib.parse import quote, urlencode, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from legacy_dialects import assert_error_body, assert_legacy_answer, family

from proxy.config import Settings
from proxy.mapping.table import Entry, load_table
from proxy.sandbox import DEMO_PRIVATE_KEY

SAFE_SEGMENT = "[A-Za-z0-9_-]{1,64}"  # a legacy id, as the proxy accepts it
SAFE_ID = re.compile(SAFE_SEGMENT)
VARIABLE = re.compile(r"\{([a-z_]+)\}")
# Pieces that try to leave the segment, the path, the query or the header block, and
# characters that only look like them (or like ASCII).
HOSTILE = [
    "/", "%2F", "%2f", "%252F", ".", "..", "%2e%2e", "%2E", "?", "%3F", "#", "%23", "&", "=", ";", "@", ":",
    "\\", "%5C", "\r\n", "%0d%0a", "\x00", "%00", " ", "+", '"', ")", ",", "*", "~",
    "\u2215", "\u2044", "\uff0f", "\uff0e", "\u2024", "\u0430", "\u0391", "\u200b", "\ufeff", "\U0001f600",
]  # fmt: skip
ROUTES = [(method, entry) for entry in load_table(Settings().mappings_dir) for method in entry.methods if VARIABLE.search(entry.path)]
FUZZ = settings(max_examples=40, derandomize=True, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])

ids = st.one_of(
    st.from_regex(SAFE_ID, fullmatch=True),
    st.text(st.sampled_from("Aa0_-"), min_size=63, max_size=66),
    st.text(max_size=70),
    st.lists(st.sampled_from(HOSTILE) | st.from_regex(r"[A-Za-z0-9]{1,6}", fullmatch=True), min_size=1, max_size=6).map("".join),
)


def strict(text: str) -> str:
    """Every character but the safe ones percent-encoded (UTF-8): the server sees `text` decoded once."""
    return quote(text, safe="").replace(".", "%2E").replace("~", "%7E")


def careless(text: str) -> str:
    """What a client that trusts its ids sends: reserved characters and `%` left as they are."""
    return quote(text, safe="/?#[]@!$&'()*+,;=%:")


ENCODINGS: dict[str, Callable[[str], str]] = {"strict": strict, "careless": careless, "twice": lambda text: strict(strict(text))}


@pytest.mark.parametrize(("method", "entry"), ROUTES, ids=[f"{method} {entry.path}" for method, entry in ROUTES])
@FUZZ
@given(data=st.data(), encoding=st.sampled_from(sorted(ENCODINGS)))
def test_path_ids_never_bend_the_upstream_request(live, method, entry, data, encoding):
    values = {name: data.draw(ids, label=name) for name in VARIABLE.findall(entry.path)}
    encode = ENCODINGS[encoding]
    raw_path = VARIABLE.sub(lambda match: encode(values[match.group(1)]), entry.path)
    mark = live.mark()
    status, body = send(live.proxy_url, method, raw_path, entry)
    arrivals, violations = live.since(mark)
    sent = f"{method} {raw_path!r}"
    assert violations == [], sent
    assert_legacy_answer(sent, entry.path, status, body, arrivals)
    upstream_host = urlsplit(live.sandbox_url).netloc
    allowed = upstream_paths(entry)
    for arrival in arrivals:
        assert arrival.host == upstream_host, f"{sent} reached {arrival.host}"
        assert allowed.fullmatch(arrival.raw_path), f"{sent} became {arrival.method} {arrival.raw_path}"
    decoded = {name: strict(value) if encoding == "twice" else value for name, value in values.items()}
    if encoding != "careless" and not all(SAFE_ID.fullmatch(value) for value in decoded.values()):
        assert arrivals == [], f"{sent} is no legacy id, yet reached upstream"
        assert status == 404, f"{sent} answered {status}"
        assert_error_body(sent, family(entry.path), status, body)


def upstream_paths(entry: Entry) -> re.Pattern[str]:
    """Any of the entry's new-API operations, each variable one safe segment."""
    templates = {re.escape(call.path).replace(r"\{", "{").replace(r"\}", "}") for call in entry.calls}
    return re.compile("|".join(VARIABLE.sub(SAFE_SEGMENT, template) for template in sorted(templates)))


def send(base_url: str, method: str, raw_path: str, entry: Entry) -> tuple[int, bytes]:
    """The request as a legacy client sends it, the route's documented example around the id."""
    example = entry.example
    query = dict(example.get("query", {}))
    if entry.auth == "api_key":
        query["api_key"] = DEMO_PRIVATE_KEY
    body = str(example.get("body", "")).encode()
    content_type = "application/json" if body.startswith(b"{") else "application/x-www-form-urlencoded"
    target = raw_path + ("?" + urlencode(query) if query else "")
    connection = http.client.HTTPConnection(urlsplit(base_url).netloc, timeout=10)
    try:
        connection.request(method, target, body=body or None, headers={"Content-Type": content_type} if body else {})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()
