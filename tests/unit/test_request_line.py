"""The per-request line skips structlog's processor chain: it must still be the line the
chain would write, scrubbed the same way, and follow the configured level."""

from __future__ import annotations

import datetime
import json
from unittest import mock

import pytest
import structlog

from proxy import logs
from proxy.upstream.client import CallRecord

FIELDS = {
    "request_id": "ab12cd34-1f",
    "method": "GET",
    "route": "/__proxy/usage/ada@example.com?api_key=pk_abcdefghij",
    "status": 200,
    "upstream": [{"op": "GET /api/metrics", "status": 200, "ms": 1.25}],
    "total_ms": 3.5,
}
CALLS = [CallRecord("GET /api/metrics", 200, 1.25)]
LINE = ("ab12cd34-1f", "GET", FIELDS["route"], 200, CALLS, 3.5)


def _lines(capsys) -> list[dict]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_the_request_line_is_what_structlog_writes(capsys):
    logs.configure_logging("info", "json", redact_pii=True)
    logs.request_line("legacy_request", *LINE)
    structlog.get_logger("proxy").info("legacy_request", **FIELDS)
    fast, chained = _lines(capsys)
    assert list(fast) == list(chained)  # the same keys, in the same order
    assert fast.pop("timestamp").endswith("Z") and chained.pop("timestamp").endswith("Z")
    assert fast == chained
    assert "ada@example.com" not in fast["route"] and "pk_abcdefghij" not in fast["route"]


# What a client chooses reaches the line through the method (any token), the route (a
# service path as sent; a passthrough route names a path segment as sent) and a
# passthrough's operation: each is scrubbed as the structlog chain scrubs it.
SENT = ["pk_abcdefghij", "ada@example.com", "api_key=pk_abcdefghij", "+14155550199", "415-555-0199", "x" * 80 + "ada@example.com"]


@pytest.mark.parametrize("sent", SENT)
@pytest.mark.parametrize("redact_pii", [True, False])
def test_what_a_client_sent_is_scrubbed_as_the_chain_scrubs_it(capsys, sent, redact_pii):
    logs.configure_logging("info", "json", redact_pii=redact_pii)
    calls = [CallRecord(f"POST {sent}", 202, 0.5), CallRecord("GET /api/metrics", "error", 3.0)]
    logs.request_line("admin_request", "ab12cd34-1f", sent, f"passthrough {sent}", 404, calls, 1.0)
    fields = {
        "request_id": "ab12cd34-1f",
        "method": sent,
        "route": f"passthrough {sent}",
        "status": 404,
        "upstream": [{"op": f"POST {sent}", "status": 202, "ms": 0.5}, {"op": "GET /api/metrics", "status": "error", "ms": 3.0}],
        "total_ms": 1.0,
    }
    structlog.get_logger("proxy").info("admin_request", **fields)
    fast, chained = _lines(capsys)
    fast.pop("timestamp"), chained.pop("timestamp")
    assert fast == chained
    if redact_pii or sent.startswith(("pk_", "api_key")):
        assert sent not in json.dumps(fast)
    logs.configure_logging("info", "json", redact_pii=True)  # as the rest of the suite has it


def test_request_lines_follow_the_level_and_the_format(capsys):
    logs.configure_logging("warning", "json", redact_pii=True)
    logs.request_line("legacy_request", *LINE)
    assert capsys.readouterr().out == ""
    logs.configure_logging("info", "console", redact_pii=True)
    logs.request_line("legacy_request", *LINE)
    assert "legacy_request" in capsys.readouterr().out
    logs.configure_logging("info", "json", redact_pii=True)  # as the rest of the suite has it


def test_the_stamp_is_structlogs_iso_utc_stamp():
    for instant in (1796190000.0, 1796190000.5, 1796190000.000001, 1796190000.999999, 1796190001.9999996, 1.5):
        with mock.patch("time.time", return_value=instant):
            stamp = logs._utc_now()
        assert stamp == datetime.datetime.fromtimestamp(instant, tz=datetime.timezone.utc).isoformat().replace("+00:00", "Z")
