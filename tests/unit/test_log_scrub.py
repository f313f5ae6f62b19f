"""The log scrubber skips its patterns on text that cannot match them (a fast path for
the line every request writes): it must redact exactly what the patterns alone redact."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from proxy.logs import _EMAIL, _PHONE, _SECRETS, _redacted_key, scrub

# Pieces of what the patterns look for, so generated text often holds (parts of) matches.
PIECES = st.sampled_from(
    ["pk_", "sk_", "Klaviyo-API-Key ", "Bearer ", "api_key", "API-KEY", "Token", "company_id", "admin_token", "data", "=",
     ":", "%3D", "%22%3A%22", "%40", "@", "example.com", "+", "%2B", "1415555019", "415", "-", ".", " ", "555", "0199",
     "abcDEF123", "'", '"', "&", "é", "/api/v1/metrics"]
)  # fmt: skip
TEXT = st.lists(PIECES, max_size=12).map("".join)


def patterns_alone(text: str) -> str:
    text = _SECRETS.sub(_redacted_key, text)
    return _PHONE.sub("[redacted-phone]", _EMAIL.sub("[redacted-email]", text))


@settings(max_examples=400, deadline=None)
@given(TEXT)
def test_the_fast_path_redacts_what_the_patterns_redact(text):
    assert scrub(text, True) == patterns_alone(text)
    assert scrub({"field": [text, (text,)], "n": 1}, True) == {"field": [patterns_alone(text), [patterns_alone(text)]], "n": 1}


@settings(max_examples=200, deadline=None)
@given(TEXT)
def test_without_pii_redaction_only_secrets_go(text):
    assert scrub(text, False) == _SECRETS.sub(_redacted_key, text)


def test_long_and_short_values_alike():
    email, phone, key = "ada@example.com", "+14155550199", "pk_abcdef123456"
    short = f"{email} {phone} api_key={key}"
    assert scrub(short, True) == "[redacted-email] [redacted-phone] api_key=[redacted-key]"
    assert scrub(short + " " + "x" * 500, True).startswith("[redacted-email] [redacted-phone] api_key=[redacted-key] ")
    assert scrub("415-555-0199 and 2026-12-02T01:02:03Z", True) == "[redacted-phone] and 2026-12-02T01:02:03Z"
