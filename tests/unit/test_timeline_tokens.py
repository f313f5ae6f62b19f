import pytest

from proxy.engine.timeline import Position, next_token, position_from, time_condition
from proxy.legacy.errors import LegacyError


def test_without_since_the_timeline_is_newest_first():
    assert position_from(None, "asc") == Position("desc")


def test_unix_since_bounds_the_time_in_the_sort_direction():
    assert time_condition(position_from("1400656845", "asc")) == "greater-or-equal(timestamp,1400656845)"
    assert time_condition(position_from("1400656845", "desc")) == "less-or-equal(timestamp,1400656845)"
    assert position_from("1400656845.75", "asc") == Position("asc", 1400656845)


def test_the_proxys_token_leads_with_the_next_events_time_and_round_trips():
    token = next_token(1400656845, "asc", 3)
    assert token == "1400656845-asc3" and int(token.split("-")[0]) == 1400656845
    assert position_from(token, "desc") == Position("asc", 1400656845, 3)


def test_a_token_the_legacy_api_handed_out_resumes_from_its_leading_time():
    assert position_from("1400656845-ABCDEFG", "asc") == Position("asc", 1400656845)


def test_a_time_based_uuid_resumes_from_its_moment():
    # The oldest legacy tokens were event UUIDs (version 1: they carry their moment).
    assert position_from("e45ab680-5bb1-11e9-8001-a0dcc2d8d5f1", "desc") == Position("desc", 1554915521)


@pytest.mark.parametrize(
    "since",
    ["not-a-token", "%%%", "inf", "1e309", "1e30", "nan", "-5", "99999999999999",
     "2f1e6f3c-9f7a-4a4e-9d7e-3c2b1a0f9e8d"],
)
def test_junk_since_is_a_legacy_400(since):
    with pytest.raises(LegacyError, match="since"):
        position_from(since, "asc")
