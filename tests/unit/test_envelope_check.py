"""The envelope check reads the value a JSON answer was made from, and parses only
answers made some other way."""

from __future__ import annotations

import orjson
import pytest

from proxy.legacy import envelopes
from proxy.legacy.envelopes import fits
from proxy.legacy.responses import LegacyResponse, json_response


def test_a_json_answer_is_checked_without_parsing_its_body_again(monkeypatch):
    def no_parsing(_body: bytes) -> None:
        raise AssertionError("a members/all batch of 1,000 records was parsed back")

    monkeypatch.setattr(envelopes.orjson, "loads", no_parsing)
    batch = json_response({"marker": 7, "records": [{"id": "01A"}] * 1000})
    assert fits("marker", batch)
    assert not fits("marker", json_response({"marker": 7}))
    assert not fits("array", batch)


@pytest.mark.parametrize(
    ("envelope", "payload", "expected"),
    [("marker", {"records": []}, True), ("marker", {"data": []}, False), ("array", [1], True), ("object", [1], False)],
)
def test_an_answer_built_by_hand_is_parsed_and_judged_alike(envelope, payload, expected):
    by_hand = LegacyResponse(200, orjson.dumps(payload), "application/json")
    assert fits(envelope, by_hand) is expected is fits(envelope, json_response(payload))
