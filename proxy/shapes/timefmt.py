"""The legacy API's three timestamp styles, from the new API's ISO-8601 strings."""

from __future__ import annotations

from datetime import datetime, timezone
from functools import lru_cache


def parse_iso(value: str | None) -> datetime | None:
    if not value:
        return None
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


@lru_cache(maxsize=4096)  # listings repeat the same few timestamps on every request
def legacy_datetime(value: str | None) -> str:
    """"2019-03-28 13:22:35" — metrics, people, templates, campaigns ("" when unknown)."""
    parsed = parse_iso(value)
    return parsed.strftime("%Y-%m-%d %H:%M:%S") if parsed else ""


def legacy_iso(value: str | None) -> str:
    """"2019-02-21T18:21:49Z" — v2 list, member and list-exclusion times ("" when unknown)."""
    parsed = parse_iso(value)
    return parsed.strftime("%Y-%m-%dT%H:%M:%SZ") if parsed else ""


def legacy_event_datetime(value: str | None) -> str:
    """"2019-04-10 16:58:41+00:00" — event `datetime`."""
    parsed = parse_iso(value)
    return parsed.strftime("%Y-%m-%d %H:%M:%S+00:00") if parsed else ""


def iso_from_unix(seconds: float) -> str:
    return datetime.fromtimestamp(int(seconds), timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+00:00")
