"""The per-request line skips structlog's processor chain: it must still be the line the
chain would write, scrubbed the same way, and follow the configured level."""

from __future__ import annotations

import datetime
import json
from unittest import mock

import structlog

from proxy import logs

FIELDS = {
    "request_id": "ab12cd34-1f",
    "method": "GET",
    "route": "/__proxy/usage/ada@example.com?api_key=pk_abcdefghij",
    "status": 200,
    "upstream": [{"op": "GET /api/metrics", "status": 200, "ms": 1.25}],
    "total_ms": 3.5,
}


def _lines(capsys) -> list[dict]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_the_request_line_is_what_structlog_writes(capsys):
    logs.configure_logging("info", "json", redact_pii=True)
    logs.request_line("legacy_request", dict(FIELDS))
    structlog.get_logger("proxy").info("legacy_request", **FIELDS)
    fast, chained = _lines(capsys)
    assert list(fast) == list(chained)  # the same keys, in the same order
    assert fast.pop("timestamp").endswith("Z") and chained.pop("timestamp").endswith("Z")
    assert fast == chained
    assert "ada@example.com" not in fast["route"] and "pk_abcdefghij" not in fast["route"]


def test_request_lines_follow_the_level_and_the_format(capsys):
    logs.configure_logging("warning", "json", redact_pii=True)
    logs.request_line("legacy_request", dict(FIELDS))
    assert capsys.readouterr().out == ""
    logs.configure_logging("info", "console", redact_pii=True)
    logs.request_line("legacy_request", dict(FIELDS))
    assert "legacy_request" in capsys.readouterr().out
    logs.configure_logging("info", "json", redact_pii=True)  # as the rest of the suite has it


def test_the_stamp_is_structlogs_iso_utc_stamp():
    for instant in (1796190000.0, 1796190000.5, 1796190000.000001, 1796190000.999999, 1796190001.9999996, 1.5):
        with mock.patch("time.time", return_value=instant):
            stamp = logs._utc_now()
        assert stamp == datetime.datetime.fromtimestamp(instant, tz=datetime.timezone.utc).isoformat().replace("+00:00", "Z")
