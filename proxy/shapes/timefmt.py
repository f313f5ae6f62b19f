"""The legacy API's three timestamp styles, from the new API's ISO-8601 strings."""

from __future__ import annotations

from datetime import datetime, timezone
from functools import lru_cache


# Where an unreadable time sorts: after every real one.
LATEST = datetime.max.replace(tzinfo=timezone.utc)


def parse_iso(value: str | None) -> datetime | None:
    """The UTC instant, or None when unknown, unreadable, or outside years 1–9999 in UTC."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=timezone.utc)
        return parsed.astimezone(timezone.utc)
    except (ValueError, OverflowError):
        return None


def _format(value: str | None, separator: str, suffix: str) -> str:
    # Not strftime: its %Y writes the year 999 as "999" on Linux.
    t = parse_iso(value)
    if t is None:
        return ""
    return f"{t.year:04d}-{t.month:02d}-{t.day:02d}{separator}{t.hour:02d}:{t.minute:02d}:{t.second:02d}{suffix}"


@lru_cache(maxsize=4096)  # listings repeat the same few timestamps on every request
def legacy_datetime(value: str | None) -> str:
    """"2019-03-28 13:22:35" — metrics, people, templates, campaigns ("" when unknown)."""
    return _format(value, " ", "")


def legacy_iso(value: str | None) -> str:
    """"2019-02-21T18:21:49Z" — v2 list, member and list-exclusion times ("" when unknown)."""
    return _format(value, "T", "Z")


def legacy_event_datetime(value: str | None) -> str:
    """"2019-04-10 16:58:41+00:00" — event `datetime`."""
    return _format(value, " ", "+00:00")


def iso_from_unix(seconds: float) -> str:
    return datetime.fromtimestamp(int(seconds), timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+00:00")
