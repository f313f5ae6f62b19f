"""Legacy list objects from JSON:API lists and segments, and the list write bodies."""

from __future__ import annotations

from proxy.shapes.lists import list_detail, list_summary, members_body
from proxy.shapes.timefmt import legacy_iso
from proxy.shapes.v1_list import legacy_v1_list

LIST = {
    "type": "list",
    "id": "M2q6kN",
    "attributes": {
        "name": "Newsletter",
        "created": "2019-02-21T18:21:49.123456+00:00",
        "updated": "2019-02-22T01:00:00+00:00",
        "opt_in_process": "double_opt_in",
    },
}
SEGMENT = {"type": "segment", "id": "XzLpZ3", "attributes": {"name": "VIP", "created": "2021-10-15T11:30:59+00:00"}}


def test_v2_summary_and_detail():
    assert list_summary(LIST) == {"list_id": "M2q6kN", "list_name": "Newsletter"}
    detail = list_detail(LIST)
    assert detail == {"list_name": "Newsletter", "folder_name": "", "created": "2019-02-21T18:21:49Z", "updated": "2019-02-22T01:00:00Z"}
    assert list(detail) == ["list_name", "folder_name", "created", "updated"]


def test_v1_list_objects_cover_segments():
    assert legacy_v1_list(LIST, 5) == {
        "object": "list", "id": "M2q6kN", "name": "Newsletter", "list_type": "list", "folder": None,
        "created": "2019-02-21 18:21:49", "updated": "2019-02-22 01:00:00", "person_count": 5,
    }  # fmt: skip
    segment = legacy_v1_list(SEGMENT, 0)
    assert (segment["list_type"], segment["updated"]) == ("segment", "")


def test_iso_with_z_from_any_offset():
    assert legacy_iso("2026-07-15T12:00:00-04:00") == "2026-07-15T16:00:00Z"
    assert legacy_iso(None) == ""


def test_write_bodies():
    assert members_body(["a", "b"]) == {"data": [{"type": "profile", "id": "a"}, {"type": "profile", "id": "b"}]}
