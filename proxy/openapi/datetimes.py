"""ISO 8601 datetimes as Klaviyo accepts them (its docs list `2023-08-15T12:30:00`,
`2023-08-15T12:30:00Z`, `2023-08-15 12:30:00Z`, `2023-08-15T12:30:00+03:00`)."""

from __future__ import annotations

from datetime import UTC, datetime


def parse_datetime(text: str) -> datetime:
    """A timezone-aware datetime; Klaviyo reads a datetime without an offset as UTC.

    Raises ValueError for anything that is not an ISO 8601 date or datetime.
    """
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
