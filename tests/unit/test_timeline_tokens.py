import pytest

from proxy.engine.timeline import Position, decode_token, encode_token, paging_query, position_from, time_condition
from proxy.legacy.errors import LegacyError


def test_without_since_the_timeline_is_newest_first():
    assert position_from(None, "asc") == Position("desc")


def test_unix_since_bounds_the_time_in_the_sort_direction():
    assert time_condition(position_from("1400656845", "asc")) == "greater-or-equal(timestamp,1400656845)"
    assert time_condition(position_from("1400656845", "desc")) == "less-or-equal(timestamp,1400656845)"


def test_next_token_round_trips_sort_bound_and_cursor():
    position = Position("asc", 1400656845, "cursor/with+odd=chars")
    token = encode_token(position)
    assert position_from(token, "desc") == position
    assert ("page[cursor]", "cursor/with+odd=chars") in paging_query(position, 10)


@pytest.mark.parametrize("since", ["e45ab680-5bb1-11e9-8001-a0dcc2d8d5f1", "%%%", encode_token(Position("asc"))[:-3] + "xyz"])
def test_unknown_since_is_a_legacy_400(since):
    with pytest.raises(LegacyError, match="since"):
        decode_token(since)


def test_a_recipients_offset_is_not_a_timeline_token():
    # Both formats share one codec: a token of one is refused by the other, not misread.
    from proxy.handlers.campaign_recipients import Offset, decode_offset, encode_offset

    offset = Offset("asc", 2, "cursor-1", 7)
    assert decode_offset(encode_offset(offset)) == offset
    with pytest.raises(LegacyError, match="since"):
        decode_token(encode_offset(offset))
    with pytest.raises(LegacyError, match="offset"):
        decode_offset(encode_token(Position("asc", 5, "cursor-1")))
