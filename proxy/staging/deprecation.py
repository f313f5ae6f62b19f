"""Deprecation signalling on every translated response (RFC 9745 and RFC 8594).

`Deprecation` is a structured-field date (`@<unix seconds>`): the day the new API went
GA and v1/v2 were deprecated. `Sunset` is an HTTP-date: the day v1/v2 were retired.
`Link` points at the replacement operation's reference page and the migration guide.
"""

from __future__ import annotations

from datetime import datetime, timezone
from email.utils import format_datetime

DEPRECATED_AT = datetime(2022, 10, 17, tzinfo=timezone.utc)
SUNSET_AT = datetime(2024, 6, 30, tzinfo=timezone.utc)
REFERENCE = "https://developers.klaviyo.com/en/reference/{operation_id}"
MIGRATION_GUIDE = "https://developers.klaviyo.com/en/docs/apis_comparison_chart"


def reference_url(operation_id: str | None) -> str:
    return REFERENCE.format(operation_id=operation_id) if operation_id else MIGRATION_GUIDE


def deprecation_headers(operation_ids: list[str]) -> dict[str, str]:
    links = [f'<{reference_url(op)}>; rel="successor-version"' for op in operation_ids]
    links.append(f'<{MIGRATION_GUIDE}>; rel="deprecation"; type="text/html"')
    return {
        "Deprecation": f"@{int(DEPRECATED_AT.timestamp())}",
        "Sunset": format_datetime(SUNSET_AT, usegmt=True),
        "Link": ", ".join(links),
    }
