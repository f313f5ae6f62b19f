"""Legacy JSON is read without rounding: integers past 64 bits stay exact (issue 11 item 5)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from proxy.legacy import exact_json
from proxy.legacy.request import parse_request


def test_integers_past_64_bits_become_the_string_of_their_digits():
    document = exact_json.loads('{"a": 123456789012345678901234567890, "b": -9223372036854775809, "c": [18446744073709551615, 1.5]}')
    assert document == {"a": "123456789012345678901234567890", "b": "-9223372036854775809", "c": [18446744073709551615, 1.5]}


def test_long_digit_runs_inside_strings_change_nothing():
    assert exact_json.loads('{"id": "12345678901234567890123", "n": 7}') == {"id": "12345678901234567890123", "n": 7}


@pytest.mark.parametrize("text", ["NaN", "[Infinity]", "[1e400]", "{", '{"a": 123456789012345678901234567890'])
def test_what_is_not_json_is_refused(text):
    with pytest.raises(exact_json.InvalidJson):
        exact_json.loads(text)


@given(st.integers())
def test_any_integer_reads_back_exactly(number):
    value = exact_json.loads(f"[{number}]")[0]
    assert (value if isinstance(value, int) else int(value)) == number
    assert isinstance(value, int) == (-(2**63) <= number <= 2**64 - 1)


def test_a_json_body_keeps_long_integers_exact():
    request = parse_request("POST", "/api/v2/list/L/members", [], {}, b'{"profiles": [{"email": "a@x.co", "crm": 123456789012345678901234567890}]}')
    assert request.json_body["profiles"][0]["crm"] == "123456789012345678901234567890"
