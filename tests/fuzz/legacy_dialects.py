"""The oracle every fuzzed answer is held to: the legacy contract's error dialects
(legacy contract §1.6), written down here independently of the proxy's own code.

- v1 (`/api/v1/…`, and anything else under `/api/`): `{"status": <the HTTP status>, "message": str}`
- v2 (`/api/v2/…`): `{"detail": str}`
- track/identify: always HTTP 200 with the text `1` or `0`
- sign-up form (`/ajax/…`): `{"success": false, "errors": [str, …]}`

A 5xx is only ever the legacy rendering of an upstream failure (503/504 after the
sandbox itself answered 5xx) or a route's documented "no equivalent" 501 (template send
with the beta switch off); never a 500, never Python's words in a body.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import orjson
from live_stack import Arrival

PUBLIC = ("/api/track", "/api/identify")
# What Python says when it fails: a traceback, a frame, an exception class, an object repr.
PYTHON_TALK = re.compile(
    rb"Traceback \(most recent call last\)|File \"[^\"]+\", line \d+"
    rb"|\b(?:Key|Type|Value|Attribute|Index|Name|Runtime|Assertion|Lookup|Overflow|ZeroDivision|Recursion"
    rb"|UnicodeDecode|UnicodeEncode|JSONDecode|NotImplemented)Error\b|\bStopIteration\b|<\w[\w.]* object at 0x"
)


def family(template: str) -> str:
    if template in PUBLIC:
        return "public"
    if template.startswith("/api/v2/"):
        return "v2"
    if template.startswith("/ajax/"):
        return "ajax"
    return "v1"


def assert_legacy_answer(sent: str, template: str, status: int, body: bytes, arrivals: Sequence[Arrival]) -> None:
    """The proxy's answer to `sent` (a request for the legacy route `template`)."""
    assert not PYTHON_TALK.search(body), f"{sent}: Python exception text in a legacy body: {body[:300]!r}"
    upstream_failed = any(arrival.status >= 500 for arrival in arrivals)
    assert status < 500 or status == 501 or (status in (503, 504) and upstream_failed), (
        f"{sent}: {status} from the proxy's own code (upstream answered {[a.status for a in arrivals]}): {body[:300]!r}"
    )
    dialect = family(template)
    if dialect == "public":
        assert (status, body) in ((200, b"0"), (200, b"1")), f"{sent}: track/identify answered {status} {body[:100]!r}"
    elif status >= 400:
        assert_error_body(sent, dialect, status, body)


def assert_error_body(sent: str, dialect: str, status: int, body: bytes) -> None:
    try:
        error = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise AssertionError(f"{sent}: {dialect} error {status} is not JSON: {body[:300]!r}") from None
    if not isinstance(error, dict):
        shaped = False
    elif dialect == "v2":
        shaped = set(error) == {"detail"} and isinstance(error["detail"], str)
    elif dialect == "ajax":
        shaped = set(error) == {"success", "errors"} and error["success"] is False and bool(error["errors"])
        shaped = shaped and all(isinstance(text, str) for text in error["errors"])
    else:
        shaped = set(error) == {"status", "message"} and isinstance(error["message"], str) and error["status"] == status
    assert shaped, f"{sent}: HTTP {status} with no {dialect} error body: {error}"
