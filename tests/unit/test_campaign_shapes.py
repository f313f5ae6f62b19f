"""Legacy campaign, list and recipient shapes, the status vocabulary, and the campaign
request bodies built from legacy form fields."""

import re
from pathlib import Path

import pytest

from proxy.handlers.campaign_recipients import Offset, decode_offset, encode_offset
from proxy.legacy.errors import LegacyError
from proxy.shapes.campaign import (
    STATUSES,
    campaign_messages,
    email_message,
    legacy_campaign,
    legacy_status,
    recipient_status,
)
from proxy.shapes.campaign_input import (
    campaign_patch,
    create_body,
    message_patch,
    touches_message,
)
from proxy.shapes.v1_list import legacy_v1_list, with_person_count

MAPPING = Path(__file__).resolve().parents[2] / "mappings" / "campaigns.yaml"


def campaign(status="Draft", included=("L1",), excluded=(), send_time=None) -> dict:
    attributes = {
        "name": "Promo", "status": status, "audiences": {"included": list(included), "excluded": list(excluded)},
        "created_at": "2026-07-01T10:00:00+00:00", "updated_at": "2026-07-02T10:00:00+00:00", "send_time": send_time,
    }  # fmt: skip
    return {"type": "campaign", "id": "C1", "attributes": attributes}


MESSAGE = {
    "type": "campaign-message",
    "id": "M1",
    "attributes": {"definition": {"channel": "email", "content": {"subject": "Hi", "from_email": "a@b.co", "from_label": "Shop"}}},
    "relationships": {"template": {"data": {"type": "template", "id": "T1"}}},
}
AUDIENCES = {
    "L1": legacy_v1_list({"type": "list", "id": "L1", "attributes": {"name": "News"}}, 0),
    "S1": legacy_v1_list({"type": "segment", "id": "S1", "attributes": {"name": "Pros"}}, 7),
}


def test_every_new_status_has_a_legacy_triple(spec):
    schema = spec.resolve(spec.document["components"]["schemas"]["CampaignResponseObjectResource"])
    statuses = schema["properties"]["attributes"]["properties"]["status"]["enum"]
    assert set(STATUSES) == set(statuses)
    assert {status for status, _, _ in STATUSES.values()} == {"draft", "scheduled", "sending", "sent", "cancelled", "unknown"}
    assert legacy_status(None) == legacy_status("Something new") == ("unknown", 0, "Unknown")


def test_the_mapping_file_documents_the_same_vocabulary():
    rows = re.findall(r"^#   (\S.*?)\s{2,}(\w+)\s+(\d+)\s+(\S.*?)\s*$", MAPPING.read_text(), re.MULTILINE)
    assert {new: (status, int(status_id), label) for new, status, status_id, label in rows} == STATUSES


def test_a_listed_campaign_carries_lists_and_template_id_but_no_template():
    shaped = legacy_campaign(campaign(included=("S1", "Gone", "L1"), excluded=("S1",)), MESSAGE, AUDIENCES)
    assert "template" not in shaped
    assert [item["id"] for item in shaped["lists"]] == ["S1", "L1"], "audience order; deleted ones left out"
    assert [item["id"] for item in shaped["excluded_lists"]] == ["S1"]
    assert (shaped["subject"], shaped["from_email"], shaped["from_name"], shaped["template_id"]) == ("Hi", "a@b.co", "Shop", "T1")
    assert (shaped["is_segmented"], shaped["created"], shaped["updated"]) == (True, "2026-07-01 10:00:00", "2026-07-02 10:00:00")


def test_a_single_campaign_embeds_its_template():
    template = {"type": "template", "id": "T1", "attributes": {"html": "<p/>", "name": "copy"}}
    shaped = legacy_campaign(campaign(), MESSAGE, AUDIENCES, template, with_template=True)
    assert list(shaped)[8:10] == ["template", "template_id"]
    assert shaped["template"] == {"object": "email-template", "id": "T1", "html": "<p/>"}
    assert legacy_campaign(campaign(), None, {}, None, with_template=True)["template"] is None


@pytest.mark.parametrize(
    ("status", "sent_at", "num_recipients", "recipients"),
    [
        ("Draft", None, 0, "Draft"),
        ("Scheduled", None, 0, "Scheduled"),
        ("Sending", None, 12, "Sending"),
        ("Variations Sent", "2026-07-03 09:00:00", 12, "Sent"),
        ("Cancelled: No Recipients", None, 0, "Cancelled"),
    ],
)
def test_send_fields_follow_the_status(status, sent_at, num_recipients, recipients):
    """`num_recipients` is the given count once sent; a campaign that never went out reached nobody."""
    shaped = legacy_campaign(campaign(status, send_time="2026-07-03T09:00:00+00:00"), MESSAGE, AUDIENCES, recipients=12)
    assert (shaped["send_time"], shaped["sent_at"], shaped["num_recipients"]) == ("2026-07-03 09:00:00", sent_at, num_recipients)
    assert recipient_status(campaign(status)) == recipients


def test_the_email_message_is_chosen_and_found_among_included():
    sms = {"type": "campaign-message", "id": "M0", "attributes": {"definition": {"channel": "sms"}}}
    assert email_message([sms, MESSAGE]) is MESSAGE
    assert email_message([sms]) is sms and email_message([]) is None
    linked = {**campaign(), "relationships": {"campaign-messages": {"data": [{"type": "campaign-message", "id": "M1"}]}}}
    assert campaign_messages(linked, {("campaign-message", "M1"): MESSAGE}) == [MESSAGE]


def test_v1_lists_come_from_lists_and_segments():
    assert AUDIENCES["L1"] == {
        "object": "list", "id": "L1", "name": "News", "list_type": "list", "folder": None,
        "created": "", "updated": "", "person_count": 0,
    }  # fmt: skip
    assert (AUDIENCES["S1"]["list_type"], AUDIENCES["S1"]["person_count"]) == ("segment", 7)
    assert list(with_person_count(AUDIENCES["L1"], 3).items())[-1] == ("person_count", 3)


def test_create_body_maps_every_legacy_field():
    fields = {"list_id": "L1", "subject": "Hi", "from_email": "a@b.co", "from_name": "Shop", "name": None,
              "use_smart_sending": "false", "add_google_analytics": "1"}  # fmt: skip
    attributes = create_body(fields)["data"]["attributes"]
    assert attributes["name"] == "Hi", "the name defaults to the subject"
    assert attributes["audiences"] == {"included": ["L1"]}
    (message,) = attributes["campaign-messages"]["data"]
    assert message["attributes"]["definition"] == {"channel": "email", "content": {"subject": "Hi", "from_email": "a@b.co", "from_label": "Shop"}}
    assert (attributes["send_options"], attributes["tracking_options"]) == ({"use_smart_sending": False}, {"add_tracking_params": True})


def test_patches_carry_only_given_fields_and_nested_objects_whole():
    assert campaign_patch("C1", {"name": None, "list_id": None}) is None
    assert campaign_patch("C1", {"list_id": "L2"}, ["S9"]) == {
        "data": {"type": "campaign", "id": "C1", "attributes": {"audiences": {"included": ["L2"], "excluded": ["S9"]}}}
    }
    current = {"subject": "Old", "from_label": "Old", "preview_text": "Kept"}
    assert message_patch("M1", {"subject": None}, current) is None
    assert message_patch("M1", {"from_name": "New"}, current)["data"]["attributes"] == {
        "definition": {"channel": "email", "content": {"subject": "Old", "from_label": "New", "preview_text": "Kept"}}
    }
    assert touches_message({"template_id": "T1"}) and not touches_message({"name": "x", "subject": None})


def test_recipient_offsets_round_trip_and_refuse_strangers():
    offset = Offset("desc", 2, "cursor==", 17)
    assert decode_offset(encode_offset(offset)) == offset
    for token in ("garbage", encode_offset(Offset("sideways")), "WzEsImFzYyIsLTEsbnVsbCwwXQ"):
        with pytest.raises(LegacyError) as refused:
            decode_offset(token)
        assert refused.value.status == 400
